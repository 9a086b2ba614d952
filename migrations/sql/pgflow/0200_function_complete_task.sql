-- pgflow's complete_task; `attempt` (an addition, optional) makes it count only for that attempt.
create function pgflow.complete_task(run_id uuid, step_slug text, task_index int, output jsonb, attempt int default null)
returns setof pgflow.step_tasks
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
begin
  perform pgflow._assert_task_exists(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
  perform pgflow._complete_tasks(array[complete_task.run_id], array[complete_task.step_slug],
                                 array[complete_task.task_index], array[complete_task.output],
                                 array[complete_task.attempt]);
  return query select * from pgflow.step_tasks t
    where t.run_id = complete_task.run_id and t.step_slug = complete_task.step_slug
      and t.task_index = complete_task.task_index;
end;
$$;
