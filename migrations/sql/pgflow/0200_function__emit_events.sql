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
