-- Subflows: cancels the child runs still in progress of a run that ended without completing (cancel_run,
-- _fail_run), each through cancel_run, so their own children follow, transitively. The caller holds
-- the run's lock (and its ancestors'), so cancel_run's _lock_runs takes each child after its parent.
create function pgflow._cancel_child_runs(p_run_id uuid, p_reason text)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_child uuid;
  v_count int := 0;
begin
  for v_child in
    select c.run_id from pgflow.runs c
     where c.parent_run_id = p_run_id and c.status = 'started'
     order by c.run_id
  loop
    if (pgflow.cancel_run(v_child, p_reason) ->> 'cancelled')::boolean then
      v_count := v_count + 1;
    end if;
  end loop;
  return v_count;
end;
$$;
