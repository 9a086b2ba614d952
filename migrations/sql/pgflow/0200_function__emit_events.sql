-- Events. Every state change emits one inside its own transaction, so listeners see events only for
-- committed changes, in commit order. Transport: NOTIFY on channel `pgflow:run:<run_id>` (a client
-- LISTENs only to the runs it watches), and realtime.send when a Supabase `realtime` schema exists.
-- NOTIFY payloads are limited to 8000 bytes, so a large output is left out (`output_omitted`) and
-- the listener reads it from the tables.
--
-- Events are emitted in batches (one call for all the steps a statement changed): a function call
-- per event cost more than the notification itself.
create function pgflow._emit_events(p_run_ids uuid[], p_payloads jsonb[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_events jsonb[];
  -- Asked once per call: the answer cannot change within a statement that matters here.
  v_notify boolean := pgflow._notifications_allowed();
  -- What a notification on the run's channel may carry (the library's RunEvent).
  v_notified_keys constant text[] := array['event_type', 'run_id', 'flow_slug', 'step_slug', 'status', 'output',
    'error_message', 'skip_reason', 'task_index', 'attempt', 'retry_at', 'sleep_until', 'visible_at', 'signal_name',
    'child_run_id', 'child_flow_slug', 'reason', 'from_step', 'concurrency_key', 'at'];
begin
  -- Each event stamped once with its run and time, in the given order; both transports send these.
  select array_agg(x.payload || jsonb_build_object('run_id', x.run_id, 'at', clock_timestamp()) order by x.n)
    into v_events
    from unnest(p_run_ids, p_payloads) with ordinality as x(run_id, payload, n);

  -- One statement for the whole batch, in the given order. A notification carries only what a
  -- listener's event holds (the library's RunEvent): not the run's input (it is in the tables, and
  -- every notification is read by every listener of the server) nor the state's timestamps and
  -- counters, which only take room in the server's notification queue (about 1 kB per task with them).
  -- 7,500 bytes leave room under NOTIFY's 8,000-byte limit for the channel name and framing. What
  -- does not fit is left out: the output first, then the error.
  perform pg_notify('pgflow:run:' || (e.payload ->> 'run_id'),
                    case when octet_length(e.body) <= 7500 then e.body
                         when octet_length((e.payload - 'output' || '{"output_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'output' || '{"output_omitted": true}'::jsonb)::text
                         else (e.payload - 'output' - 'error_message'
                               || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text
                    end)
    from (select k.payload, k.payload::text as body
            from unnest(v_events) with ordinality as v(payload, n)
            -- The payload without its other keys: those left when the notified ones are taken out.
            cross join lateral (
              select v.payload - array(select jsonb_object_keys(v.payload - v_notified_keys)) as payload) k
           where v_notify
           order by v.n) e;

  -- Run events also go to the flow's channel, 'pgflow:flow:<flow_slug>', for listeners of every run of
  -- a flow (the library's @OnFlowEvent): small, and one per run event only.
  perform pg_notify('pgflow:flow:' || (e.payload ->> 'flow_slug'), e.payload::text)
    from (select jsonb_strip_nulls(jsonb_build_object(
                   'event_type', v.payload -> 'event_type', 'run_id', v.payload -> 'run_id',
                   'flow_slug', v.payload -> 'flow_slug', 'status', v.payload -> 'status',
                   'error_message', left(v.payload ->> 'error_message', 2000),
                   'reason', left(v.payload ->> 'reason', 2000), 'concurrency_key', v.payload -> 'concurrency_key',
                   'at', v.payload -> 'at')) as payload
            from unnest(v_events) with ordinality as v(payload, n)
           where v.payload ->> 'event_type' like 'run:%' and v.payload ? 'flow_slug' and v_notify
           order by v.n) e;

  -- Supabase Realtime, where its schema exists (the lookups are cache hits); not for task events.
  if to_regnamespace('realtime') is not null
     and to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null then
    perform realtime.send(
              e.payload,
              case when e.payload ->> 'event_type' like 'step:%'
                   then 'step:' || (e.payload ->> 'step_slug') || ':' || (e.payload ->> 'status')
                   else 'run:' || (e.payload ->> 'status') end,
              'pgflow:run:' || (e.payload ->> 'run_id'),
              false)
      from (select v.payload
              from unnest(v_events) with ordinality as v(payload, n)
             where v.payload ->> 'event_type' not like 'task:%'
             order by v.n) e;
  end if;
end;
$$;
