-- Fails the given tasks' attempts (fail_task, fail_tasks, the stalled sweep): a retry while attempts
-- are left and the failure is retryable (p_retryable: null or true), else the step's when_exhausted.
create function pgflow._fail_tasks(
  p_run_ids uuid[], p_step_slugs text[], p_task_indexes int[], p_error_messages text[],
  p_stalled boolean default false, p_attempts int[] default null, p_retryable boolean[] default null
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_item record;
  v_task record;
  v_delay int;
  v_count int := 0;
  v_error text;
  v_max_error_bytes int := (pgflow._limits()).max_error_message_bytes;
begin
  perform pgflow._lock_runs(p_run_ids);
  perform 1
     from pgflow.step_states s
     join (select distinct k.run_id, k.step_slug from unnest(p_run_ids, p_step_slugs) as k(run_id, step_slug)) k
       on s.run_id = k.run_id and s.step_slug = k.step_slug
    order by s.run_id, s.step_slug
      for update of s;

  for v_item in
    select distinct on (i.run_id, i.step_slug, i.task_index) i.*
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_error_messages, coalesce(p_attempts, '{}'),
                  coalesce(p_retryable, '{}'))
             as i(run_id, step_slug, task_index, error_message, attempt, retryable)
     order by i.run_id, i.step_slug, i.task_index
  loop
    -- Read the state afresh: an earlier item of this batch may have failed or skipped this run or step.
    select t.flow_slug, t.message_id, t.status, t.attempts_count,
           r.status as run_status, s.status as step_status,
           coalesce(step.opt_max_attempts, flow.opt_max_attempts) as max_attempts,
           coalesce(step.opt_base_delay, flow.opt_base_delay) as base_delay,
           step.when_exhausted
      into v_task
      from pgflow.step_tasks t
      join pgflow.runs r on r.run_id = t.run_id
      join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
      join pgflow.flows flow on flow.flow_slug = t.flow_slug
     where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
    continue when not found;

    if v_task.run_status <> 'started' or v_task.step_status <> 'started' then
      if v_task.status in ('queued', 'started') and v_task.message_id is not null then
        perform pgmq.archive(v_task.flow_slug, array[v_task.message_id]);
      end if;
      continue;
    end if;
    -- A late or repeated call: the task was already retried, completed or failed.
    continue when v_task.status <> 'started';
    -- A report of another attempt than the one running (a worker that lost the task to a stall or a
    -- timeout, reporting late) changes nothing: the running attempt decides.
    continue when v_item.attempt is not null and v_item.attempt <> v_task.attempts_count;
    v_count := v_count + 1;
    v_error := pgflow._truncate_bytes(v_item.error_message, v_max_error_bytes);

    -- A failure reported as not retryable (the handler threw NonRetryableError) uses up the attempts.
    if not p_stalled and coalesce(v_item.retryable, true) and v_task.attempts_count < v_task.max_attempts then
      v_delay := pgflow.calculate_retry_delay(v_task.base_delay, v_task.attempts_count);
      update pgflow.step_tasks t
         set status = 'queued', error_message = v_error, child_run_id = null
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, v_delay);
      perform pgflow._emit_events(array[v_item.run_id], array[jsonb_build_object(
        'event_type', 'task:retrying', 'flow_slug', v_task.flow_slug, 'step_slug', v_item.step_slug,
        'task_index', v_item.task_index, 'status', 'queued', 'attempt', v_task.attempts_count,
        'error_message', v_error, 'retry_at', now() + make_interval(secs => v_delay))]);
    else
      update pgflow.step_tasks t
         set status = 'failed', failed_at = now(), error_message = v_error, child_run_id = null,
             permanently_stalled_at = case when p_stalled then now() end
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.archive(v_task.flow_slug, array[v_task.message_id]);
      if v_task.when_exhausted = 'fail' then
        perform pgflow._fail_run(v_item.run_id, v_item.step_slug, v_error);
      else
        perform pgflow._skip_steps(array[v_item.run_id], array[v_item.step_slug], 'handler_failed',
                                   v_task.when_exhausted = 'skip-cascade', v_error);
        perform pgflow._advance_runs(array[v_item.run_id]);
      end if;
    end if;
  end loop;
  if v_count > 0 then
    -- Slots of concurrency-limited flows just freed: their workers claim now.
    perform pgflow._wake_limited_flows(array(select distinct r.flow_slug from pgflow.runs r
                                              where r.run_id = any(p_run_ids)));
  end if;
  return v_count;
end;
$$;
