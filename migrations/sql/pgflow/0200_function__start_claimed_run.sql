-- _start_and_claim for a plain flow, in a few statements: the run, its step states and its root step's
-- task are written as start_flows and _claim_tasks would leave them (the root step started, its task
-- started for p_worker_id, its message invisible for the step's timeout + 2 seconds), with the same
-- events, instead of being written and then changed through the general functions. One difference:
-- the message was never read from the queue, so its read_ct is 0 where a claim's read leaves 1 (no
-- part of the engine reads read_ct). Returns no row, having changed nothing, unless every condition under which the general
-- path would claim exactly this run's root task holds:
-- - the flow is named by its slug (not an alias), is not paused, and has no rate or concurrency
--   limit, on itself or on a step (_is_plain_flow);
-- - it has one root step, a single step without a start delay, condition or signal (its other steps
--   start later, through the general path, whatever they are);
-- - its queue has no visible message (the general claim would take older messages first:
--   _queue_has_visible);
-- - the run has no idempotency key, rate limit key, concurrency key or priority, a valid trace
--   context if any, an id not taken, and an input well within pgflow.limits.max_input_bytes.
-- Otherwise _start_and_claim takes the general path, which also raises the errors. A test starts the
-- same runs both ways and compares every row, message and event (test/engine/claimed-start.test.ts).
-- Setting pgflow.claimed_start to 'off' turns this path off.
create function pgflow._start_claimed_run(
  p_flow_slug text, p_input jsonb, p_run_id uuid, p_trace_context text, p_qty int, p_worker_id uuid,
  p_known_run_ids uuid[]
)
returns table (kind text, run_id uuid, flow_slug text, step_slug text, task_index int, msg_id bigint, input jsonb,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile
set jit to off
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_flow record;
  v_run pgflow.runs;
  v_started pgflow.step_states[];
  v_msg_id bigint;
begin
  if p_qty < 1 or current_setting('pgflow.claimed_start', true) = 'off'
     or (p_trace_context is not null
         and p_trace_context !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$') then
    return;
  end if;
  if not pgflow._is_plain_flow(p_flow_slug) then
    return;
  end if;
  select min(step.step_slug) filter (where step.deps_count = 0) as root_slug,
         max(coalesce(step.opt_timeout, flow.opt_timeout)) filter (where step.deps_count = 0) as root_timeout,
         count(*)::int as step_count
    into v_flow
    from pgflow.flows flow
    join pgflow.steps step on step.flow_slug = flow.flow_slug
    join pgflow.limits l on l.singleton
   where flow.flow_slug = p_flow_slug
     -- A margin: the general path measures the input as an element of an array, and raises.
     and pg_column_size(coalesce(p_input, 'null'::jsonb)) < l.max_input_bytes - 64
  having count(*) filter (where step.deps_count = 0) = 1
     and bool_and(step.deps_count > 0
                  or (step.step_type = 'single' and step.opt_start_delay is null and step.signal_name is null
                      and step.required_input_pattern is null and step.forbidden_input_pattern is null));
  if not found or (select v from pgflow._queue_has_visible(p_flow_slug) v) then
    return;
  end if;

  insert into pgflow.runs (run_id, flow_slug, input, remaining_steps, trace_context)
  values (coalesce(p_run_id, pgflow._new_run_id()), p_flow_slug, coalesce(p_input, 'null'::jsonb), v_flow.step_count,
          p_trace_context)
  on conflict do nothing
  returning * into v_run;
  if v_run.run_id is null then
    return;
  end if;
  -- The states as start_flows inserts them and _start_ready_steps then starts the root's.
  with inserted as (
    insert into pgflow.step_states (flow_slug, run_id, step_slug, status, remaining_deps, initial_tasks,
                                    remaining_tasks, started_at)
    select p_flow_slug, v_run.run_id, s.step_slug, case when s.deps_count = 0 then 'started' else 'created' end,
           s.deps_count, case when s.step_type = 'single' then 1 end, case when s.deps_count = 0 then 1 end,
           case when s.deps_count = 0 then now() end
      from pgflow.steps s
     where s.flow_slug = p_flow_slug
    returning *
  )
  select array_agg(i) filter (where i.status = 'started') into v_started from inserted i;
  perform pgflow._emit_run_events('run:started', array[v_run]);
  perform pgflow._emit_step_events('step:started', v_started);
  v_msg_id := pgflow._insert_started_task(p_flow_slug, v_run.run_id, v_flow.root_slug, v_flow.root_timeout + 2,
                                          p_worker_id);
  -- As _wake_after_claim after the general path: the claim took all it asked for, so other workers
  -- are told that work came (they find none, as it would be).
  if p_qty = 1 and pgflow._notifications_allowed() then
    perform pg_notify('pgflow:work', p_flow_slug);
  end if;
  return query
    select 'run'::text, v_run.run_id, p_flow_slug, null::text, null::int, null::bigint, null::jsonb, null::jsonb,
           null::int, null::int;
  return query
    select 'task'::text, v_run.run_id, p_flow_slug, v_flow.root_slug, 0, v_msg_id, '{}'::jsonb,
           case when v_run.run_id = any(p_known_run_ids) then null else v_run.input end, 1, v_flow.root_timeout;
end;
$$;
