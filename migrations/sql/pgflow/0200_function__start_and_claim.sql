-- Starts one run (start_flow) and claims up to p_qty tasks of its flow for p_worker_id (_claim_tasks),
-- in one statement and one commit: what a process whose own worker serves the flow does, so that the
-- run's first task goes to that worker without a wake-up notification and a claim of its own. The
-- claim is an ordinary one (the flow's ready tasks in queue order, within its limits, none while it is
-- paused): it may take another run's task when some were waiting. The first row is the run (kind
-- 'run': run_id and flow_slug); each claimed task follows (kind 'task'). The wake-up of the other
-- workers goes out as after _report_and_claim: only when this claim left some of the new messages.
-- A run of a plain flow is started with its root task already claimed (_start_claimed_run), with the
-- same rows and events.
create function pgflow._start_and_claim(
  p_flow_slug text, p_input jsonb, p_run_id uuid, p_idempotency_key text, p_trace_context text, p_priority int,
  p_rate_limit_key text, p_concurrency_key text, p_qty int, p_visibility_timeout int, p_worker_id uuid,
  p_known_run_ids uuid[] default '{}'
)
returns table (kind text, run_id uuid, flow_slug text, step_slug text, task_index int, msg_id bigint, input jsonb,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile
-- As _report_and_claim: no JIT, one plan per statement for the session, index paths only.
set jit to off
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_run record;
  v_claimed int := 0;
begin
  -- A plain flow's run, with its root task claimed, in a few statements (_start_claimed_run); any
  -- other start, or one it declines, takes the general path below.
  if p_idempotency_key is null and p_rate_limit_key is null and p_concurrency_key is null
     and coalesce(p_priority, 0) = 0 then
    return query
      select * from pgflow._start_claimed_run(p_flow_slug, p_input, p_run_id, p_trace_context, p_qty, p_worker_id,
                                              coalesce(p_known_run_ids, '{}'));
    if found then
      return;
    end if;
  end if;
  -- The run's first messages defer their wake-up to the claim below (see _start_ready_steps).
  perform set_config('pgflow.claiming_flow', p_flow_slug, true);
  -- start_flows with one input, as start_flow calls it: called directly, since a call of the SQL
  -- function start_flow parses and plans its body again in every statement.
  select r.run_id, r.flow_slug into v_run
    from pgflow.start_flows(p_flow_slug, jsonb_build_array(coalesce(p_input, 'null'::jsonb)),
                            case when p_run_id is not null then array[p_run_id] end,
                            case when p_idempotency_key is not null then array[p_idempotency_key] end,
                            case when p_trace_context is not null then array[p_trace_context] end,
                            p_priority,
                            case when p_rate_limit_key is not null then array[p_rate_limit_key] end,
                            case when p_concurrency_key is not null then array[p_concurrency_key] end) r;
  return query select 'run'::text, v_run.run_id, v_run.flow_slug, null::text, null::int, null::bigint, null::jsonb,
                      null::jsonb, null::int, null::int;
  -- An alias started another flow: the worker asked for tasks of p_flow_slug, whose queue got nothing.
  if v_run.flow_slug = p_flow_slug and p_qty > 0 then
    return query
      select 'task'::text, c.run_id, p_flow_slug, c.step_slug, c.task_index, c.msg_id, c.input, c.flow_input,
             c.attempt, c.timeout_seconds
        from pgflow._claim_tasks(p_flow_slug, p_qty, p_visibility_timeout, p_worker_id, p_known_run_ids) c;
    get diagnostics v_claimed = row_count;
  end if;
  perform pgflow._wake_after_claim(p_flow_slug, v_claimed, p_qty);
end;
$$;
