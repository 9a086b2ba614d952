-- The signal timeout (steps.signal_timeout), part of the sweep (requeue_stalled_tasks): a signal
-- step's task still waiting for its signal that many seconds after its step started fails like an
-- exhausted task, without an attempt: the step's when_exhausted decides (fail the run, or skip the
-- step and go on). Rows are taken with skip locked, so sweeping workers do not repeat each other.
-- Returns how many waits timed out. Only the tasks queued longer ago than the shortest signal timeout
-- of any step are read (the partial index of waiting tasks, by queued_at): every worker's sweep read
-- every waiting task, thousands of runs waiting for an approval, say, until migration
-- SweepsPastTasksInFlight.
create function pgflow._time_out_signal_waits()
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_shortest int := (select min(step.signal_timeout) from pgflow.steps step where step.signal_timeout is not null);
  v_wait record;
  v_error text;
  v_count int := 0;
begin
  if v_shortest is null then
    return 0;
  end if;
  for v_wait in
    select t.run_id, t.step_slug, t.flow_slug, step.signal_name, step.signal_timeout, step.when_exhausted
      from pgflow.step_tasks t
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
     where t.status = 'queued' and t.message_id is null and step.signal_timeout is not null
       and t.queued_at < now() - make_interval(secs => v_shortest)
       and t.queued_at < now() - make_interval(secs => step.signal_timeout)
     order by t.run_id, t.step_slug
  loop
    continue when not pgflow._lock_runs(array[v_wait.run_id], true);
    perform 1 from pgflow.runs r where r.run_id = v_wait.run_id and r.status = 'started';
    continue when not found;
    perform 1 from pgflow.step_states s
     where s.run_id = v_wait.run_id and s.step_slug = v_wait.step_slug and s.status = 'started'
       for update skip locked;
    continue when not found;
    -- Still waiting once locked: send_signal locks the run first, so it either came before or comes after.
    v_error := format('Step %L waited %s seconds for signal %L, its signal timeout, without receiving it.',
                      v_wait.step_slug, v_wait.signal_timeout, v_wait.signal_name);
    update pgflow.step_tasks t
       set status = 'failed', failed_at = now(), error_message = v_error
     where t.run_id = v_wait.run_id and t.step_slug = v_wait.step_slug and t.task_index = 0
       and t.status = 'queued' and t.message_id is null;
    continue when not found;
    v_count := v_count + 1;
    if v_wait.when_exhausted = 'fail' then
      perform pgflow._fail_run(v_wait.run_id, v_wait.step_slug, v_error);
    else
      perform pgflow._skip_steps(array[v_wait.run_id], array[v_wait.step_slug], 'handler_failed',
                                 v_wait.when_exhausted = 'skip-cascade', v_error);
      perform pgflow._advance_runs(array[v_wait.run_id]);
    end if;
  end loop;
  return v_count;
end;
$$;
