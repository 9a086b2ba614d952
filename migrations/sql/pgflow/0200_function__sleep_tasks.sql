-- Durable sleep (@Step({ delayUntil })): the worker that claimed tasks of such a step computes each
-- one's wake time from its input and calls this before running them. The first time a task comes
-- here its wake time is kept (sleep_until); later claims use the kept one, so a delayUntil that
-- reads the clock cannot push the task further at each claim. A task whose wake time has come stays
-- started and runs now (sleeping = false). Any other goes back to queued without counting the
-- attempt, and its message becomes visible at its wake time; no worker holds it meanwhile. p_tasks: [{ "msg_id": ..., "until": "<timestamptz>" }].
create function pgflow._sleep_tasks(p_flow_slug text, p_worker_id uuid, p_tasks jsonb)
returns table (msg_id bigint, sleep_until timestamptz, sleeping boolean)
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_tasks pgflow.step_tasks[];
begin
  -- One update: keep the wake time the first time, and put to sleep the tasks whose wake time is
  -- ahead. Only this worker's started tasks: one it lost (requeued, cancelled) is left alone.
  with computed as (
    select t.run_id, t.step_slug, t.task_index,
           coalesce(t.sleep_until, greatest(m.until, t.queued_at)) as wake_at
      from jsonb_to_recordset(coalesce(p_tasks, '[]')) as m(msg_id bigint, until timestamptz)
      join pgflow.step_tasks t on t.flow_slug = p_flow_slug and t.message_id = m.msg_id
     where t.status = 'started' and t.last_worker_id = p_worker_id
  ), changed as (
    update pgflow.step_tasks t
       set sleep_until = c.wake_at,
           status = case when c.wake_at > v_now then 'queued' else t.status end,
           attempts_count = case when c.wake_at > v_now then greatest(t.attempts_count - 1, 0)
                                 else t.attempts_count end
      from computed c
     where t.run_id = c.run_id and t.step_slug = c.step_slug and t.task_index = c.task_index
    returning t.*
  )
  select array_agg(c order by c.message_id) into v_tasks from changed c;

  if exists (select 1 from unnest(v_tasks) a where a.status = 'queued') then
    -- The exact wake time (set_vt takes whole seconds), in the queue's table as _next_visible_at reads it.
    execute format('update pgmq.%I q set vt = s.wake_at
                      from unnest($1::bigint[], $2::timestamptz[]) as s(msg_id, wake_at)
                     where q.msg_id = s.msg_id', pgmq.format_table_name(p_flow_slug, 'q'))
      using (select array_agg(a.message_id) from unnest(v_tasks) a where a.status = 'queued'),
            (select array_agg(a.sleep_until) from unnest(v_tasks) a where a.status = 'queued');
    perform pgflow._emit_events(
              array_agg(a.run_id),
              array_agg(jsonb_build_object('event_type', 'task:sleeping', 'flow_slug', a.flow_slug,
                                           'step_slug', a.step_slug, 'task_index', a.task_index,
                                           'status', 'queued', 'sleep_until', a.sleep_until)))
       from unnest(v_tasks) a
      where a.status = 'queued';
  end if;

  return query
    select a.message_id, a.sleep_until, a.status = 'queued'
      from unnest(v_tasks) a;
end;
$$;
