create function pgflow.start_tasks(flow_slug text, msg_ids bigint[], worker_id uuid)
returns setof pgflow.step_task_record
language sql
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
  select t.flow_slug, t.run_id, t.step_slug, t.input, t.msg_id, t.task_index, t.flow_input
    -- A paused flow starts nothing (pause_flow); the messages come back after their visibility timeout.
    from pgflow._start_tasks(start_tasks.flow_slug,
                             case when exists (select 1 from pgflow.flows f
                                                where f.flow_slug = start_tasks.flow_slug and f.paused_at is not null)
                                  then '{}'::bigint[] else start_tasks.msg_ids end,
                             start_tasks.worker_id) t;
$$;
