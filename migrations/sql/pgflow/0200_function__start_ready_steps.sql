-- Starts every ready step (created, no remaining dependency, at least one task) of the given runs:
-- one task row per task, and one queue message per task sent in one batch per flow and start delay.
-- A map task's element is stored on its row so that claiming it never re-reads the whole array.
-- A signal step (steps.signal_name) whose signal the run has not received yet gets its task row
-- without a message: it waits (step:waiting) until send_signal sends one; with the signal already
-- received, its message goes out now (step:signalled). A run waiting for a slot of its concurrency key
-- (runs.concurrency_state 'waiting') starts nothing until it is admitted (_admit_runs).
create function pgflow._start_ready_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_started pgflow.step_states[];
  v_batch record;
begin
  with started as (
    update pgflow.step_states s
       set status = 'started', started_at = now(), remaining_tasks = s.initial_tasks
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and r.concurrency_state is distinct from 'waiting'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks > 0
    returning s.*
  )
  select array_agg(started) into v_started from started;
  if v_started is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:started', v_started);
  if exists (select 1 from unnest(v_started) s
               join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
              where step.signal_name is not null) then
    perform pgflow._start_signal_steps(v_started);
  end if;

  for v_batch in
    select distinct s.flow_slug, coalesce(step.opt_start_delay, 0) as delay
      from unnest(v_started) s
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
  loop
    with tasks as materialized (
      select s.flow_slug, s.run_id, s.step_slug, task.task_index, task.input,
             row_number() over (order by s.run_id, s.step_slug, task.task_index) as position
        from unnest(v_started) s
        join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
        join pgflow.runs r on r.run_id = s.run_id
        cross join lateral (
          select 0 as task_index, null::jsonb as input
           where step.step_type = 'single'
          union all
          select (element.position - 1)::int, element.value
            from jsonb_array_elements(
                   case when step.step_type <> 'map' then null
                        when step.deps_count = 0 then r.input
                        else (select parent.output
                                from pgflow.deps dep
                                join pgflow.step_states parent
                                  on parent.run_id = s.run_id and parent.step_slug = dep.dep_slug
                               where dep.flow_slug = step.flow_slug and dep.step_slug = step.step_slug)
                   end) with ordinality as element(value, position)
        ) task
       where s.flow_slug = v_batch.flow_slug and coalesce(step.opt_start_delay, 0) = v_batch.delay
         and (step.signal_name is null
              or exists (select 1 from pgflow.signals g where g.run_id = s.run_id and g.signal_name = step.signal_name))
    ),
    sent as (
      -- _queue_send returns the ids in ascending order, the order of the messages in the array.
      select message.id, row_number() over (order by message.id) as position
        from pgflow._queue_send(
               v_batch.flow_slug,
               (select array_agg(jsonb_build_object('flow_slug', t.flow_slug, 'run_id', t.run_id,
                                                    'step_slug', t.step_slug, 'task_index', t.task_index)
                                 order by t.position)
                  from tasks t),
               v_batch.delay) as message(id)
    )
    insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id, input)
    select t.flow_slug, t.run_id, t.step_slug, t.task_index, sent.id, t.input
      from tasks t join sent on sent.position = t.position;

    -- Delayed messages too: a worker that reads the queue and finds nothing visible learns when the
    -- next message becomes visible (_next_visible_at), and reads again then, not at the end of its
    -- longest wait (the library's maxPollSeconds).
    if v_batch.flow_slug = current_setting('pgflow.claiming_flow', true) then
      -- _report_and_claim claims this flow's messages next, in this transaction: it wakes the
      -- other workers only if it leaves some (pgflow.work_deferred tells it there were new ones,
      -- and makes it read the queue even when its worker did not ask to).
      perform set_config('pgflow.work_deferred', 'on', true);
    elsif pgflow._notifications_allowed() then
      -- Wakes idle workers of this flow at once instead of at their next poll.
      perform pg_notify('pgflow:work', v_batch.flow_slug);
    end if;
  end loop;
  return cardinality(v_started);
end;
$$;
