create function pgflow.complete_tasks(completions jsonb)
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
declare
  v_list record;
begin
  v_list := pgflow._task_list(complete_tasks.completions, 'completions', 'output');
  return pgflow._complete_tasks(v_list.run_ids, v_list.step_slugs, v_list.task_indexes, v_list.payloads,
                                v_list.attempts);
end;
$$;
