/**
 * Events. Every state change emits one inside its own transaction, so listeners see events only for
 * committed changes, in commit order. Transport: NOTIFY on channel `pgflow:run:<run_id>` (a client
 * LISTENs only to the runs it watches), and realtime.send when a Supabase `realtime` schema exists.
 * NOTIFY payloads are limited to 8000 bytes, so a large output is left out (`output_omitted`) and
 * the listener reads it from the tables.
 *
 * Events are emitted in batches (one call for all the steps a statement changed): a function call
 * per event cost more than the notification itself.
 */

export const createEmitEvents = /* sql */ `
create function pgflow._emit_events(p_run_ids uuid[], p_payloads jsonb[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- One statement for the whole batch, in the given order.
  -- 7,500 bytes leave room under NOTIFY's 8,000-byte limit for the channel name and framing. What
  -- does not fit is left out: the run's input first, then the output, then the error.
  perform pg_notify('pgflow:run:' || e.run_id,
                    case when octet_length(e.body) <= 7500 then e.body
                         when e.payload ? 'input'
                              and octet_length((e.payload - 'input' || '{"input_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'input' || '{"input_omitted": true}'::jsonb)::text
                         when octet_length((e.payload - 'input' - 'output' || '{"output_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'input' - 'output' || '{"output_omitted": true}'::jsonb)::text
                         else (e.payload - 'input' - 'output' - 'error_message'
                               || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text
                    end)
    from (select x.run_id, p.payload, p.payload::text as body
            from unnest(p_run_ids, p_payloads) with ordinality as x(run_id, payload, n)
            cross join lateral (select x.payload || jsonb_build_object('run_id', x.run_id, 'at', clock_timestamp())
                                         as payload) p
           order by x.n) e;

  -- Supabase Realtime, where its schema exists (the lookups are cache hits); not for task events.
  if to_regnamespace('realtime') is not null
     and to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null then
    perform realtime.send(
              p.payload,
              case when p.payload ->> 'event_type' like 'step:%'
                   then 'step:' || (p.payload ->> 'step_slug') || ':' || (p.payload ->> 'status')
                   else 'run:' || (p.payload ->> 'status') end,
              'pgflow:run:' || x.run_id,
              false)
      from unnest(p_run_ids, p_payloads) with ordinality as x(run_id, payload, n)
      cross join lateral (select x.payload || jsonb_build_object('run_id', x.run_id, 'at', clock_timestamp())
                                   as payload) p
     where p.payload ->> 'event_type' not like 'task:%'
     order by x.n;
  end if;
end;
$$;
`;

/** Step events carry the step state's columns. */
export const createEmitStepEvents = /* sql */ `
create function pgflow._emit_step_events(p_event_type text, p_states pgflow.step_states[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_events(
    array_agg(s.run_id order by s.ordinality),
    array_agg(jsonb_strip_nulls(jsonb_build_object(
                'event_type', p_event_type,
                'flow_slug', s.flow_slug,
                'step_slug', s.step_slug,
                'status', s.status,
                'error_message', s.error_message,
                'skip_reason', s.skip_reason,
                'started_at', s.started_at,
                'completed_at', s.completed_at,
                'failed_at', s.failed_at,
                'skipped_at', s.skipped_at,
                'remaining_tasks', s.remaining_tasks,
                'initial_tasks', s.initial_tasks))
              -- The output is kept even when it is JSON null: a null output is an output.
              || case when s.status = 'completed' then jsonb_build_object('output', s.output) else '{}'::jsonb end
              order by s.ordinality))
    from unnest(p_states) with ordinality s;
end;
$$;
`;

/** Run events carry the run's columns (a completed run's input and output too), and `p_extra`. */
export const createEmitRunEvents = /* sql */ `
create function pgflow._emit_run_events(p_event_type text, p_runs pgflow.runs[], p_extra jsonb default '{}')
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_events(
    array_agg(r.run_id order by r.ordinality),
    array_agg(jsonb_strip_nulls(jsonb_build_object(
                'event_type', p_event_type,
                'flow_slug', r.flow_slug,
                'status', r.status,
                'started_at', r.started_at,
                'completed_at', r.completed_at,
                'failed_at', r.failed_at,
                'remaining_steps', r.remaining_steps))
              -- A completed run's event carries what wait() returns, so that it needs no read.
              || case when r.status = 'completed' then jsonb_build_object('output', r.output, 'input', r.input)
                      else '{}'::jsonb end
              || p_extra
              order by r.ordinality))
    from unnest(p_runs) with ordinality r;
end;
$$;
`;
