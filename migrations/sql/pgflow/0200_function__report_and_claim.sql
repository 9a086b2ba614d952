-- The worker's whole round trip: report finished tasks (complete_tasks, fail_tasks), then claim up
-- to p_qty tasks of p_flow_slug, in one statement and one commit. A task that a completion makes
-- ready is claimed by the same call, so a chain moves on without waiting for a notification; the
-- wake-up (pgflow:work) for the claimed flow's new messages goes out only when this claim leaves
-- some (it got all it asked for), so that workers, this one included, do not read an emptied
-- queue again. When nothing was claimed, one row with null task columns tells when the queue's
-- next message becomes visible (next_visible_at, with the database's clock in db_now).
-- p_poll false: the worker read the queue lately and was woken by nothing since (it reports a result
-- between two polls); the queue is read only for what this report made ready in the flow (its next
-- steps, freed concurrency slots) or may have (failures, which retry), else nothing is read and no
-- row comes back. On an idle worker that saves the read, and the search for the next visible message,
-- in the statement whose commit ends the run.
-- p_awaited_run_ids: runs of the reported tasks that the worker's process waits for (FlowClient.wait()).
-- Each of them that has ended once the report is made comes back first, as a row with only run_id and
-- run_outcome (the run as sql.runOutcome reads it, as JSON): the process settles its wait from the
-- statement whose commit ended the run, without waiting for the run's notification and reading it.
create function pgflow._report_and_claim(
  p_completions jsonb, p_failures jsonb, p_flow_slug text, p_qty int, p_visibility_timeout int,
  p_worker_id uuid, p_known_run_ids uuid[] default '{}', p_poll boolean default true,
  p_awaited_run_ids uuid[] default '{}'
)
returns table (run_id uuid, step_slug text, task_index int, msg_id bigint, input jsonb, flow_input jsonb,
               attempt int, timeout_seconds int, next_visible_at timestamptz, db_now timestamptz,
               run_outcome jsonb)
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
  v_claimed int := 0;
  v_claiming boolean := p_flow_slug is not null and p_qty > 0;
  v_failures int := jsonb_array_length(coalesce(p_failures, '[]'));
  v_plain bigint[];
begin
  -- A plain flow's lone result on a worker that claims and did not ask for a read: the task completed,
  -- and what it makes ready started and claimed, in a few statements (_complete_plain_task), which
  -- returns the messages of the tasks it claimed, or null when the general path below must do it.
  if v_claiming and v_failures = 0 and not coalesce(p_poll, true)
     and jsonb_typeof(p_completions) = 'array' and jsonb_array_length(p_completions) = 1 then
    v_plain := pgflow._complete_plain_task(p_completions -> 0, p_flow_slug, p_qty, p_worker_id);
  end if;
  -- Report first, then claim. Never the other way round: a claim reads messages with FOR UPDATE
  -- SKIP LOCKED, and in READ COMMITTED that can leave a lock on a message another worker claimed
  -- a moment ago (locked, re-checked, found invisible, kept locked until the commit). Reporting
  -- locks runs and then archives its own messages; a claim that went first would wait for those
  -- runs while holding such a lock, and two workers would deadlock.
  -- The steps the report starts in the flow claimed below defer their wake-up to this function
  -- (_start_ready_steps reads the setting; it lasts until the end of the transaction at most).
  if v_plain is null then
    if v_claiming then
      perform set_config('pgflow.claiming_flow', p_flow_slug, true);
    end if;
    if jsonb_array_length(coalesce(p_completions, '[]')) > 0 then
      perform pgflow.complete_tasks(p_completions);
    end if;
    if v_failures > 0 then
      perform pgflow.fail_tasks(p_failures);
    end if;
  end if;
  if cardinality(p_awaited_run_ids) > 0 then
    return query
      select r.run_id, null::text, null::int, null::bigint, null::jsonb, null::jsonb, null::int, null::int,
             null::timestamptz, null::timestamptz,
             jsonb_build_object('run_id', r.run_id, 'flow_slug', r.flow_slug, 'status', r.status,
                                'input', r.input, 'output', r.output, 'started_at', r.started_at,
                                'completed_at', r.completed_at, 'failed_at', r.failed_at,
                                'cancel_reason', r.cancel_reason, 'failed_step', failed.step_slug,
                                'error_message', failed.error_message)
        from pgflow.runs r
        left join lateral (
          select s.step_slug, s.error_message from pgflow.step_states s
           where s.run_id = r.run_id and s.status = 'failed'
           order by s.failed_at limit 1) failed on true
       where r.run_id = any(p_awaited_run_ids) and r.status in ('completed', 'failed', 'cancelled');
  end if;
  if v_plain is not null then
    -- The tasks _complete_plain_task claimed, as _start_tasks returns them.
    return query
      select t.run_id, t.step_slug, t.task_index, t.message_id, deps.outputs,
             case when t.run_id = any(p_known_run_ids)
                    or t.message_id <> min(t.message_id) over (partition by t.run_id) then null
                  else r.input end,
             t.attempts_count, coalesce(step.opt_timeout, flow.opt_timeout), null::timestamptz, null::timestamptz,
             null::jsonb
        from pgflow.step_tasks t
        join pgflow.runs r on r.run_id = t.run_id
        join pgflow.steps step on step.flow_slug = p_flow_slug and step.step_slug = t.step_slug
        join pgflow.flows flow on flow.flow_slug = p_flow_slug
        cross join lateral (
          select coalesce(jsonb_object_agg(dep.dep_slug, dep_state.output), '{}'::jsonb) as outputs
            from pgflow.deps dep
            join pgflow.step_states dep_state on dep_state.run_id = t.run_id and dep_state.step_slug = dep.dep_slug
           where dep.flow_slug = p_flow_slug and dep.step_slug = t.step_slug and dep_state.status = 'completed'
        ) deps
       where t.message_id = any(v_plain) and t.flow_slug = p_flow_slug
       order by t.message_id;
    return;
  end if;
  if v_claiming and not coalesce(p_poll, true) and v_failures = 0
     and current_setting('pgflow.work_deferred', true) is distinct from 'on' then
    -- Nothing new in the flow, and the worker did not ask for a read.
    perform set_config('pgflow.claiming_flow', '', true);
    return;
  end if;
  if not v_claiming then
    return;
  end if;
  -- Then what is ready, the report's next steps included, in one read.
  return query
    select c.run_id, c.step_slug, c.task_index, c.msg_id, c.input, c.flow_input, c.attempt, c.timeout_seconds,
           null::timestamptz, null::timestamptz, null::jsonb
      from pgflow._claim_tasks(p_flow_slug, p_qty, p_visibility_timeout, p_worker_id, p_known_run_ids) c;
  get diagnostics v_claimed = row_count;
  perform pgflow._wake_after_claim(p_flow_slug, v_claimed, p_qty);
  if v_claimed = 0 then
    return query
      select null::uuid, null::text, null::int, null::bigint, null::jsonb, null::jsonb, null::int, null::int,
             -- A paused flow has nothing to wait for: the worker polls at its slowest, and
             -- resume_flow wakes it.
             case when exists (select 1 from pgflow.flows f where f.flow_slug = p_flow_slug and f.paused_at is not null)
                  then null else pgflow._next_visible_at(p_flow_slug) end,
             clock_timestamp(), null::jsonb;
  end if;
end;
$$;
