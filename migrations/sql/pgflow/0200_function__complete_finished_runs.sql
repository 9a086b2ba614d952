-- Completes the runs that have no step left: output = one key per completed leaf step. A completed
-- child run (subflows) completes the task of its parent run waiting for it.
create function pgflow._complete_finished_runs(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.runs[];
begin
  with done as (
    update pgflow.runs r
       set status = 'completed',
           completed_at = now(),
           output = coalesce((
             select jsonb_object_agg(s.step_slug, s.output)
               from pgflow.step_states s
              where s.run_id = r.run_id and s.status = 'completed'
                and not exists (select 1 from pgflow.deps dep
                                 where dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug)), '{}'::jsonb)
     where r.run_id = any(p_run_ids) and r.status = 'started' and r.remaining_steps = 0
    returning r.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._runs_completed(v_done);
  return cardinality(v_done);
end;
$$;
