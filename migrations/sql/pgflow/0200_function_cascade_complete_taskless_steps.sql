create function pgflow.cascade_complete_taskless_steps(run_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_total int := 0;
  v_round int;
begin
  loop
    v_round := pgflow._complete_taskless_steps(array[cascade_complete_taskless_steps.run_id]);
    exit when v_round = 0;
    v_total := v_total + v_round;
  end loop;
  return v_total;
end;
$$;
