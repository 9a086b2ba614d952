-- pgflow's fail_task; `attempt` (an addition, optional) makes it count only for that attempt.
create function pgflow.fail_task(run_id uuid, step_slug text, task_index int, error_message text, attempt int default null)
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
  perform pgflow._assert_task_exists(fail_task.run_id, fail_task.step_slug, fail_task.task_index);
  perform pgflow._fail_tasks(array[fail_task.run_id], array[fail_task.step_slug], array[fail_task.task_index],
                             array[fail_task.error_message], p_attempts => array[fail_task.attempt]);
  return query select * from pgflow.step_tasks t
    where t.run_id = fail_task.run_id and t.step_slug = fail_task.step_slug and t.task_index = fail_task.task_index;
end;
$$;
