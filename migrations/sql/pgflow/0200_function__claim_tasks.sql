-- The worker's poll, in one round trip and one transaction: read up to p_qty messages and start
-- their tasks. A message that can never start (its task is missing or over, or its run or step is)
-- is archived here instead of coming back after every visibility timeout. A paused flow's queue is
-- not read. The tasks of runs with a higher priority (start_flow's priority) are read first. A
-- rate-limited flow (flows.opt_rate_limit) starts only what its windows have left
-- (_rate_limit_messages); a flow without one pays nothing more. A flow or step with a concurrency limit
-- (flows.opt_concurrency, steps.opt_concurrency) is read within it (_read_within_concurrency).
create function pgflow._claim_tasks(
  p_flow_slug text, p_qty int, p_visibility_timeout int, p_worker_id uuid, p_known_run_ids uuid[] default '{}'
)
returns table (flow_slug text, run_id uuid, step_slug text, input jsonb, msg_id bigint, task_index int,
               flow_input jsonb, attempt int, timeout_seconds int)
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
  v_msg_ids bigint[];
  v_dead bigint[];
  v_read_vt int;
  v_started int;
  v_paused boolean;
  v_rate_limit int;
  v_rate_period int;
  v_limited boolean;
  v_prioritized boolean;
begin
  -- Read and start share this transaction, so the messages can be read with the visibility their
  -- tasks get when started (the longest step timeout + 2): most then need no second update.
  -- The same look-up says whether the flow is paused (pause_flow): then nothing is read, and its
  -- messages wait in the queue for resume_flow.
  select greatest(p_visibility_timeout, max(coalesce(step.opt_timeout, flow.opt_timeout)) + 2),
         bool_or(flow.paused_at is not null), max(flow.opt_rate_limit), max(flow.opt_rate_period),
         bool_or(flow.opt_concurrency is not null or step.opt_concurrency is not null)
    into v_read_vt, v_paused, v_rate_limit, v_rate_period, v_limited
    from pgflow.steps step join pgflow.flows flow on flow.flow_slug = step.flow_slug
   where step.flow_slug = p_flow_slug;
  if v_paused then
    return;
  end if;
  -- Run priorities: while a run of the flow with a priority other than 0 is started, its tasks go
  -- first (_read_by_priority); otherwise pgmq.read's order. The test probes runs_priority_idx, which
  -- holds only runs with a priority (none at all where nobody uses them).
  v_prioritized := exists (select 1 from pgflow.runs r
                            where r.flow_slug = p_flow_slug and r.priority <> 0 and r.status = 'started');
  if v_limited then
    v_msg_ids := pgflow._read_within_concurrency(p_flow_slug, coalesce(v_read_vt, p_visibility_timeout), p_qty,
                                                 v_prioritized);
  elsif v_prioritized then
    v_msg_ids := pgflow._read_by_priority(p_flow_slug, coalesce(v_read_vt, p_visibility_timeout), p_qty);
  else
    select array_agg(m.id) into v_msg_ids
      from pgflow._queue_read(p_flow_slug, coalesce(v_read_vt, p_visibility_timeout), p_qty) as m(id);
  end if;
  if v_msg_ids is null then
    return;
  end if;
  if v_rate_limit is not null then
    v_msg_ids := pgflow._rate_limit_messages(p_flow_slug, v_msg_ids, v_rate_limit, v_rate_period);
    if v_msg_ids is null then
      return;
    end if;
  end if;
  return query
    select * from pgflow._start_tasks(p_flow_slug, v_msg_ids, p_worker_id, coalesce(p_known_run_ids, '{}'), v_read_vt);
  get diagnostics v_started = row_count;
  if v_started = cardinality(v_msg_ids) then
    return;
  end if;

  select array_agg(m.msg_id) into v_dead
    from unnest(v_msg_ids) as m(msg_id)
    left join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task on true
   where task.run_id is null
      or task.status in ('completed', 'failed')
      or (task.status = 'queued'
          and (not exists (select 1 from pgflow.runs r where r.run_id = task.run_id and r.status = 'started')
               or not exists (select 1 from pgflow.step_states s where s.run_id = task.run_id
                                 and s.step_slug = task.step_slug and s.status = 'started')));
  if v_dead is not null then
    perform pgflow._queue_archive(p_flow_slug, v_dead);
  end if;
end;
$$;
