/**
 * Events. Every state change emits one inside its own transaction, so listeners see events only for
 * committed changes, in commit order. Transport: NOTIFY on channel `pgflow:run:<run_id>` (a client
 * LISTENs only to the runs it watches), and realtime.send when a Supabase `realtime` schema exists.
 * NOTIFY payloads are limited to 8000 bytes, so a large output is left out (`output_omitted`) and
 * the listener reads it from the tables.
 */

export const createEmitEvent = /* sql */ `
create function pgflow._emit_event(p_run_id uuid, p_payload jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_payload jsonb := p_payload || jsonb_build_object('run_id', p_run_id, 'at', clock_timestamp());
  v_text text := v_payload::text;
  v_event_type text := v_payload ->> 'event_type';
begin
  -- 7,500 leaves room under NOTIFY's 8,000-byte limit for the channel name and framing.
  if octet_length(v_text) > 7500 then
    v_text := (v_payload - 'output' || '{"output_omitted": true}'::jsonb)::text;
    if octet_length(v_text) > 7500 then
      v_text := (v_payload - 'output' - 'error_message'
                 || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text;
    end if;
  end if;
  perform pg_notify('pgflow:run:' || p_run_id, v_text);

  -- The schema lookup is a cache hit; the function signature is parsed only where a realtime schema exists.
  if v_event_type not like 'task:%' and to_regnamespace('realtime') is not null
     and to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null then
    perform realtime.send(
      v_payload,
      case when v_event_type like 'step:%'
           then 'step:' || (v_payload ->> 'step_slug') || ':' || (v_payload ->> 'status')
           else 'run:' || (v_payload ->> 'status') end,
      'pgflow:run:' || p_run_id,
      false);
  end if;
end;
$$;
`;

/** Step events carry the step state's columns. */
export const createEmitStepEvent = /* sql */ `
create function pgflow._emit_step_event(p_event_type text, p_state pgflow.step_states)
returns void
language sql
volatile
set search_path to ''
as $$
  select pgflow._emit_event(p_state.run_id, jsonb_strip_nulls(jsonb_build_object(
    'event_type', p_event_type,
    'flow_slug', p_state.flow_slug,
    'step_slug', p_state.step_slug,
    'status', p_state.status,
    'error_message', p_state.error_message,
    'skip_reason', p_state.skip_reason,
    'started_at', p_state.started_at,
    'completed_at', p_state.completed_at,
    'failed_at', p_state.failed_at,
    'skipped_at', p_state.skipped_at,
    'remaining_tasks', p_state.remaining_tasks,
    'initial_tasks', p_state.initial_tasks))
    -- The output is kept even when it is JSON null: a null output is an output.
    || case when p_state.status = 'completed' then jsonb_build_object('output', p_state.output) else '{}'::jsonb end);
$$;
`;

/** Run events carry the run's columns (not its input, which can be large). */
export const createEmitRunEvent = /* sql */ `
create function pgflow._emit_run_event(p_event_type text, p_run pgflow.runs, p_extra jsonb default '{}')
returns void
language sql
volatile
set search_path to ''
as $$
  select pgflow._emit_event(p_run.run_id, jsonb_strip_nulls(jsonb_build_object(
    'event_type', p_event_type,
    'flow_slug', p_run.flow_slug,
    'status', p_run.status,
    'started_at', p_run.started_at,
    'completed_at', p_run.completed_at,
    'failed_at', p_run.failed_at,
    'remaining_steps', p_run.remaining_steps))
    || case when p_run.status = 'completed' then jsonb_build_object('output', p_run.output) else '{}'::jsonb end
    || p_extra);
$$;
`;
