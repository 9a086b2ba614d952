/**
 * Failing tasks: a retry while attempts remain (the same message becomes visible again after
 * calculate_retry_delay), else the step's when_exhausted policy. And the stalled-task sweep, which
 * puts back tasks whose worker vanished and ends, like an exhausted task, one that keeps stalling.
 */

import { ENTRY_SETTINGS } from './entry-settings.ts';

export const createFailTasksInternal = /* sql */ `
create function pgflow._fail_tasks(
  p_run_ids uuid[], p_step_slugs text[], p_task_indexes int[], p_error_messages text[],
  p_stalled boolean default false
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
begin
  perform 1 from pgflow.runs r where r.run_id = any(p_run_ids) order by r.run_id for update;
  perform 1
     from pgflow.step_states s
     join (select distinct k.run_id, k.step_slug from unnest(p_run_ids, p_step_slugs) as k(run_id, step_slug)) k
       on s.run_id = k.run_id and s.step_slug = k.step_slug
    order by s.run_id, s.step_slug
      for update of s;

  for v_item in
    select distinct on (i.run_id, i.step_slug, i.task_index) i.*
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_error_messages)
             as i(run_id, step_slug, task_index, error_message)
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
    v_count := v_count + 1;

    if not p_stalled and v_task.attempts_count < v_task.max_attempts then
      v_delay := pgflow.calculate_retry_delay(v_task.base_delay, v_task.attempts_count);
      update pgflow.step_tasks t
         set status = 'queued', error_message = v_item.error_message
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, v_delay);
      perform pgflow._emit_events(array[v_item.run_id], array[jsonb_build_object(
        'event_type', 'task:retrying', 'flow_slug', v_task.flow_slug, 'step_slug', v_item.step_slug,
        'task_index', v_item.task_index, 'status', 'queued', 'attempt', v_task.attempts_count,
        'error_message', v_item.error_message, 'retry_at', now() + make_interval(secs => v_delay))]);
    else
      update pgflow.step_tasks t
         set status = 'failed', failed_at = now(), error_message = v_item.error_message,
             permanently_stalled_at = case when p_stalled then now() end
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.archive(v_task.flow_slug, array[v_task.message_id]);
      if v_task.when_exhausted = 'fail' then
        perform pgflow._fail_run(v_item.run_id, v_item.step_slug, v_item.error_message);
      else
        perform pgflow._skip_steps(array[v_item.run_id], array[v_item.step_slug], 'handler_failed',
                                   v_task.when_exhausted = 'skip-cascade', v_item.error_message);
        perform pgflow._advance_runs(array[v_item.run_id]);
      end if;
    end if;
  end loop;
  return v_count;
end;
$$;
`;

export const createFailTasks = /* sql */ `
create function pgflow.fail_tasks(failures jsonb)
returns int
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
begin
  perform pgflow._assert_task_list(fail_tasks.failures, 'failures', 'error_message');
  return pgflow._fail_tasks(
    array(select (e ->> 'run_id')::uuid from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'step_slug' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select (e ->> 'task_index')::int from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'error_message' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n));
end;
$$;
`;

export const createFailTask = /* sql */ `
create function pgflow.fail_task(run_id uuid, step_slug text, task_index int, error_message text)
returns setof pgflow.step_tasks
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
begin
  perform pgflow._assert_task_exists(fail_task.run_id, fail_task.step_slug, fail_task.task_index);
  perform pgflow._fail_tasks(array[fail_task.run_id], array[fail_task.step_slug], array[fail_task.task_index],
                             array[fail_task.error_message]);
  return query select * from pgflow.step_tasks t
    where t.run_id = fail_task.run_id and t.step_slug = fail_task.step_slug and t.task_index = fail_task.task_index;
end;
$$;
`;

/**
 * Puts back tasks started longer ago than their step's timeout (else the flow's) + 30 seconds,
 * up to 3 times; the 4th stall fails the task like an exhausted one, so the run always ends.
 * Rows are taken with skip locked: many workers can sweep at once without doing the same work.
 */
export const createRequeueStalledTasks = /* sql */ `
create function pgflow.requeue_stalled_tasks()
returns int
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
declare
  v_task record;
  v_requeued int := 0;
begin
  for v_task in
    select t.run_id, t.step_slug, t.task_index, t.flow_slug, t.message_id, t.requeued_count, t.started_at,
           coalesce(step.opt_timeout, flow.opt_timeout) as timeout
      from pgflow.step_tasks t
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
      join pgflow.flows flow on flow.flow_slug = t.flow_slug
      join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug and s.status = 'started'
     where t.status = 'started'
       and t.started_at < now() - make_interval(secs => coalesce(step.opt_timeout, flow.opt_timeout) + 30)
     order by t.run_id, t.step_slug, t.task_index
  loop
    perform 1 from pgflow.runs r where r.run_id = v_task.run_id and r.status = 'started' for update skip locked;
    continue when not found;
    perform 1 from pgflow.step_tasks t
     where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index
       and t.status = 'started' and t.started_at = v_task.started_at
       for update skip locked;
    continue when not found;

    if v_task.requeued_count < 3 then
      update pgflow.step_tasks t
         set status = 'queued', requeued_count = t.requeued_count + 1, last_requeued_at = now()
       where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, 0);
      v_requeued := v_requeued + 1;
    else
      perform pgflow._fail_tasks(array[v_task.run_id], array[v_task.step_slug], array[v_task.task_index],
        array[format('Task %s of step %L stalled: not completed within its %s-second timeout, and already requeued %s times.',
                     v_task.task_index, v_task.step_slug, v_task.timeout, v_task.requeued_count)],
        true);
    end if;
  end loop;
  return v_requeued;
end;
$$;
`;
