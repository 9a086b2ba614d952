-- Puts tasks back in the queue whose worker is gone: every started task of a worker whose heartbeat
-- is later than its dead_after (the worker is then declared dead: stopped_at, stop_reason
-- 'declared_dead'), and any task started longer ago than its step's timeout (else the flow's) + 30
-- seconds, the worker alive or not (not a task waiting for its child run: subflows). Up to 3 times;
-- the 4th stall fails the task like an exhausted one, so the run always ends. Rows are taken with
-- skip locked (a run's ancestors first, see _lock_runs): many workers can sweep at once without
-- doing the same work. Wakes the flows' workers when it requeued something. Also fails the
-- signal steps waiting past their signal timeout (_time_out_signal_waits).
-- Every worker sweeps at each heartbeat, so the sweep reads only the started tasks that could be
-- stalled: those started before the earliest time any step's timeout + 30 s allows, or before a
-- worker was declared dead within the longest timeout + 30 s (the tasks of a worker declared dead
-- longer ago are past their timeout too). It read every started task, with 10,000 tasks in flight
-- 14 ms per sweep per worker, until migration SweepsPastTasksInFlight.
create function pgflow.requeue_stalled_tasks()
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
  v_task record;
  -- Started tasks older than this may be stalled; younger ones are not.
  v_started_before timestamptz;
  v_requeued int := 0;
  v_flows text[] := '{}';
begin
  update pgflow.workers w
     set stopped_at = now(), stop_reason = 'declared_dead'
   where w.stopped_at is null and w.dead_after is not null and w.last_heartbeat_at < now() - w.dead_after;

  select greatest(now() - make_interval(secs => min(t.timeout) + 30),
                  (select max(w.stopped_at) from pgflow.workers w
                    where w.stop_reason = 'declared_dead'
                      and w.stopped_at > now() - make_interval(secs => max(t.timeout) + 30)))
    into v_started_before
    from (select coalesce(step.opt_timeout, flow.opt_timeout) as timeout
            from pgflow.steps step join pgflow.flows flow on flow.flow_slug = step.flow_slug) t;

  for v_task in
    select t.run_id, t.step_slug, t.task_index, t.flow_slug, t.message_id, t.requeued_count, t.started_at,
           coalesce(step.opt_timeout, flow.opt_timeout) as timeout
      from pgflow.step_tasks t
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
      join pgflow.flows flow on flow.flow_slug = t.flow_slug
      join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug and s.status = 'started'
     where t.status = 'started' and t.started_at < v_started_before
       -- A task waiting for its child run (subflows) holds no worker: the child's end settles it.
       and t.child_run_id is null
       and (t.started_at < now() - make_interval(secs => coalesce(step.opt_timeout, flow.opt_timeout) + 30)
            -- Its worker was declared dead after it started the task (a worker declared dead that
            -- comes back and starts new tasks keeps those).
            or exists (select 1 from pgflow.workers w
                        where w.worker_id = t.last_worker_id and w.stop_reason = 'declared_dead'
                          and w.stopped_at > t.started_at))
     order by t.run_id, t.step_slug, t.task_index
  loop
    continue when not pgflow._lock_runs(array[v_task.run_id], true);
    perform 1 from pgflow.runs r where r.run_id = v_task.run_id and r.status = 'started';
    continue when not found;
    perform 1 from pgflow.step_tasks t
     where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index
       and t.status = 'started' and t.started_at = v_task.started_at and t.child_run_id is null
       for update skip locked;
    continue when not found;

    if v_task.requeued_count < 3 then
      update pgflow.step_tasks t
         set status = 'queued', requeued_count = t.requeued_count + 1, last_requeued_at = now()
       where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, 0);
      v_requeued := v_requeued + 1;
      v_flows := v_flows || v_task.flow_slug;
    else
      perform pgflow._fail_tasks(array[v_task.run_id], array[v_task.step_slug], array[v_task.task_index],
        array[format('Task %s of step %L stalled: not completed (its worker gone, or past its %s-second timeout), '
                     'and already requeued %s times.', v_task.task_index, v_task.step_slug, v_task.timeout,
                     v_task.requeued_count)],
        true);
    end if;
  end loop;
  -- Signal steps waiting past their signal timeout fail like exhausted tasks (the same sweep).
  perform pgflow._time_out_signal_waits();
  if v_requeued > 0 and pgflow._notifications_allowed() then
    perform pg_notify('pgflow:work', f) from (select distinct unnest(v_flows) as f) flows;
  end if;
  return v_requeued;
end;
$$;
