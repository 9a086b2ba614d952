-- Delivers a signal to a run: the step of the run's flow waiting for a signal of this name starts
-- with the payload as its input (FlowClient.signal). Sent before that step is ready, the signal is
-- kept and delivered when the step starts. Refused, changing nothing: an unknown run (PF009), a run
-- that has ended (PF040), a name no step of the flow waits for (PF041), a second signal of the same
-- name to the run (PF042; the first one's payload stands), a step that can no longer take it because
-- it ended without it, skipped or timed out (PF043), a payload over pgflow.limits.max_input_bytes
-- (PF011). The run is locked first, as every completion locks it: a step that becomes ready at this
-- moment either sees the stored signal or is seen waiting here.
--
-- An API process's role (docs/SECURITY.md) may call it: it inserts the signal and sets the waiting
-- task's message, and sends it with send_batch, as starting a run does.
create function pgflow.send_signal(run_id uuid, signal_name text, payload jsonb default null)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run pgflow.runs;
  v_step pgflow.steps;
  v_state pgflow.step_states;
  v_task pgflow.step_tasks;
  v_payload jsonb := coalesce(send_signal.payload, 'null'::jsonb);
  v_max_bytes int := (pgflow._limits()).max_input_bytes;
  v_message_id bigint;
begin
  select * into v_run from pgflow.runs r where r.run_id = send_signal.run_id for update;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist: signal %L not sent.', send_signal.run_id, send_signal.signal_name),
      hint = 'Check the run id (FlowClient.start() returns it), or list the runs with pgflow.list_runs.';
  end if;
  if v_run.status <> 'started' then
    raise exception using errcode = 'PF040',
      message = format('Run %s of flow %L is %s: signal %L not sent (a run that has ended takes no signal).',
                       v_run.run_id, v_run.flow_slug, v_run.status, send_signal.signal_name),
      hint = 'Signal runs in progress only; FlowClient.getRun() tells a run''s status.';
  end if;
  select * into v_step from pgflow.steps s
   where s.flow_slug = v_run.flow_slug and s.signal_name = send_signal.signal_name;
  if not found then
    raise exception using errcode = 'PF041',
      message = format('No step of flow %L waits for signal %L: not sent to run %s.%s', v_run.flow_slug,
                       send_signal.signal_name, v_run.run_id,
                       coalesce(' The flow''s signals: ' || (select string_agg(quote_literal(s.signal_name), ', ' order by s.step_index)
                                                             from pgflow.steps s
                                                            where s.flow_slug = v_run.flow_slug and s.signal_name is not null)
                                || '.', ' The flow has no signal step.')),
      hint = 'Use the name of a step''s @Step({ signal }) option.';
  end if;
  if pg_column_size(v_payload) > v_max_bytes then
    raise exception using errcode = 'PF011',
      message = format('The payload of signal %L to run %s is %s bytes: more than the %s bytes an input may have '
                       '(pgflow.limits.max_input_bytes).', send_signal.signal_name, v_run.run_id,
                       pg_column_size(v_payload), v_max_bytes),
      hint = 'Pass a reference to large data (a key, a URL) instead of the data, or raise pgflow.limits.max_input_bytes.';
  end if;
  if exists (select 1 from pgflow.signals g where g.run_id = v_run.run_id and g.signal_name = send_signal.signal_name) then
    raise exception using errcode = 'PF042',
      message = format('Run %s already received signal %L: this one is refused (the first payload stands).',
                       v_run.run_id, send_signal.signal_name),
      hint = 'A signal is delivered once per run. To act on a second decision, model it as another signal step.';
  end if;
  select * into v_state from pgflow.step_states s
   where s.run_id = v_run.run_id and s.step_slug = v_step.step_slug for update;
  if v_state.status in ('completed', 'failed', 'skipped', 'cancelled') then
    raise exception using errcode = 'PF043',
      message = format('Step %L of run %s, which waits for signal %L, is %s: the signal can no longer be delivered.',
                       v_step.step_slug, v_run.run_id, send_signal.signal_name, v_state.status),
      hint = 'A step skipped by its condition, or failed after its signal timeout, takes no signal; retry the run to wait again.';
  end if;

  insert into pgflow.signals (run_id, signal_name, payload) values (v_run.run_id, send_signal.signal_name, v_payload);
  select * into v_task from pgflow.step_tasks t
   where t.run_id = v_run.run_id and t.step_slug = v_step.step_slug and t.task_index = 0
     and t.status = 'queued' and t.message_id is null
     for update;
  if not found then
    -- The step is not ready yet: it starts with this payload when it is (_start_ready_steps).
    return jsonb_build_object('run_id', v_run.run_id, 'signal_name', send_signal.signal_name,
                              'step_slug', v_step.step_slug, 'delivered', false);
  end if;

  select m into v_message_id
    from pgmq.send_batch(v_run.flow_slug,
                         array[jsonb_build_object('flow_slug', v_run.flow_slug, 'run_id', v_run.run_id,
                                                  'step_slug', v_step.step_slug, 'task_index', 0)], 0) m;
  update pgflow.step_tasks t set message_id = v_message_id
   where t.run_id = v_run.run_id and t.step_slug = v_step.step_slug and t.task_index = 0;
  update pgflow.signals g set delivered_at = now()
   where g.run_id = v_run.run_id and g.signal_name = send_signal.signal_name;
  perform pgflow._emit_events(array[v_run.run_id], array[jsonb_build_object(
    'event_type', 'step:signalled', 'flow_slug', v_run.flow_slug, 'step_slug', v_step.step_slug,
    'status', 'started', 'signal_name', send_signal.signal_name)]);
  if pgflow._notifications_allowed() then
    perform pg_notify('pgflow:work', v_run.flow_slug);
  end if;
  return jsonb_build_object('run_id', v_run.run_id, 'signal_name', send_signal.signal_name,
                            'step_slug', v_step.step_slug, 'delivered', true);
end;
$$;
