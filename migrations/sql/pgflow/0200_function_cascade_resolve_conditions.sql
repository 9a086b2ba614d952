-- pgflow's cascade_resolve_conditions: resolves the conditions of the run's ready steps until none
-- is left unresolved (a skip can make more steps ready); false when an unmet condition with
-- when_unmet 'fail' failed the run.
create function pgflow.cascade_resolve_conditions(run_id uuid)
returns boolean
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform 1 from pgflow.runs r where r.run_id = cascade_resolve_conditions.run_id for update;
  loop
    exit when pgflow._resolve_conditions(array[cascade_resolve_conditions.run_id]) = 0;
  end loop;
  return coalesce((select r.status <> 'failed' from pgflow.runs r where r.run_id = cascade_resolve_conditions.run_id),
                  true);
end;
$$;
