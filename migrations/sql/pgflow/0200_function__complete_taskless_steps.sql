-- Completes ready steps that have no task (maps over an empty array) with output [].
create function pgflow._complete_taskless_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.step_states[];
begin
  with done as (
    update pgflow.step_states s
       set status = 'completed', started_at = now(), completed_at = now(), remaining_tasks = 0,
           initial_tasks = 0, output = '[]'::jsonb
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks = 0
    returning s.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:completed', v_done);
  perform pgflow._propagate_completed_steps(
    array(select s.run_id from unnest(v_done) s order by s.run_id, s.step_slug),
    array(select s.step_slug from unnest(v_done) s order by s.run_id, s.step_slug));
  return cardinality(v_done);
end;
$$;
