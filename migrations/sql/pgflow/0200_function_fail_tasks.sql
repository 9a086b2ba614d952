create function pgflow.fail_tasks(failures jsonb)
returns int
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
  perform pgflow._assert_task_list(fail_tasks.failures, 'failures', 'error_message');
  return pgflow._fail_tasks(
    array(select (e ->> 'run_id')::uuid from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'step_slug' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select (e ->> 'task_index')::int from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'error_message' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n));
end;
$$;
