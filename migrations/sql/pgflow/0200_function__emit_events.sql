-- Events. Every state change emits one inside its own transaction, so listeners see events only for
-- committed changes, in commit order. Transport: NOTIFY on channel `pgflow:run:<run_id>` (a client
-- LISTENs only to the runs it watches), and realtime.send when a Supabase `realtime` schema exists.
-- NOTIFY payloads are limited to 8000 bytes, so a large output is left out (`output_omitted`) and
-- the listener reads it from the tables.
--
-- Events are emitted in batches (one call for all the steps a statement changed): a function call
-- per event cost more than the notification itself. Without Realtime, run and step events without
-- extra keys skip this function: _emit_run_events and _emit_step_events build the notifications
-- from the rows directly (_notify_run_events), since building the full event and trimming it cost
-- more than twice as much.
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

  -- A notification carries only what a listener's event holds (the library's RunEvent): not the run's
  -- input (it is in the tables, and every notification is read by every listener of the server) nor
  -- the state's timestamps and counters, which only take room in the server's notification queue
  -- (about 1 kB per task with them). Each payload without its other keys: those left when the
  -- notified ones are taken out.
  if v_notify then
    perform pgflow._notify_run_events(array(
      select v.payload - array(select jsonb_object_keys(v.payload - v_notified_keys))
        from unnest(v_events) with ordinality as v(payload, n)
       order by v.n));
  end if;

  -- Supabase Realtime, where its schema exists; not for task events.
  if pgflow._realtime_enabled() then
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
