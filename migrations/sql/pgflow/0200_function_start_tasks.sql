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
    -- A concurrency-limited flow starts what its limits leave room for (_concurrency_grant_messages hands
    -- the rest back). A rate-limited flow starts what its windows have left (_rate_limit_messages holds
    -- the rest back).
    from pgflow._start_tasks(start_tasks.flow_slug,
                             (select case when f.paused_at is not null then '{}'::bigint[]
                                          when f.opt_rate_limit is null then l.msg_ids
                                          else coalesce(pgflow._rate_limit_messages(f.flow_slug, l.msg_ids,
                                                                                    f.opt_rate_limit, f.opt_rate_period),
                                                        '{}') end
                                from pgflow.flows f
                                cross join lateral (
                                  select case when f.paused_at is null
                                               and (f.opt_concurrency is not null
                                                    or exists (select 1 from pgflow.steps s
                                                                where s.flow_slug = f.flow_slug
                                                                  and s.opt_concurrency is not null))
                                              then pgflow._concurrency_grant_messages(f.flow_slug, start_tasks.msg_ids)
                                              else start_tasks.msg_ids end as msg_ids) l
                               where f.flow_slug = start_tasks.flow_slug),
                             start_tasks.worker_id) t;
$$;
