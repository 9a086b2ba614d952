-- One run: start_flows with one input (and its idempotency key: the run that has it when one does;
-- its trace context, a W3C traceparent; its priority, see start_flows; the key of the flow's rate
-- limit it counts against; and the key of the flow's per-key concurrency limit).
create function pgflow.start_flow(flow_slug text, input jsonb, run_id uuid default null,
                                  idempotency_key text default null, trace_context text default null,
                                  priority int default 0, rate_limit_key text default null,
                                  concurrency_key text default null)
returns setof pgflow.runs
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
  select * from pgflow.start_flows(start_flow.flow_slug, jsonb_build_array(coalesce(start_flow.input, 'null'::jsonb)),
                                   case when start_flow.run_id is not null then array[start_flow.run_id] end,
                                   case when start_flow.idempotency_key is not null
                                        then array[start_flow.idempotency_key] end,
                                   case when start_flow.trace_context is not null
                                        then array[start_flow.trace_context] end,
                                   start_flow.priority,
                                   case when start_flow.rate_limit_key is not null
                                        then array[start_flow.rate_limit_key] end,
                                   case when start_flow.concurrency_key is not null
                                        then array[start_flow.concurrency_key] end);
$$;
