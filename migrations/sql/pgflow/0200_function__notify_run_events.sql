-- Sends events as notifications: each on its run's channel, 'pgflow:run:<run_id>', and a run event
-- also on its flow's, 'pgflow:flow:<flow_slug>', all in the given order. p_events hold only what a
-- notification carries (the library's RunEvent: see _emit_events), with run_id and at. The caller
-- has checked _notifications_allowed().
create function pgflow._notify_run_events(p_events jsonb[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- 7,500 bytes leave room under NOTIFY's 8,000-byte limit for the channel name and framing. What
  -- does not fit is left out: the output first, then the error.
  perform pg_notify('pgflow:run:' || (e.payload ->> 'run_id'),
                    case when octet_length(e.body) <= 7500 then e.body
                         when octet_length((e.payload - 'output' || '{"output_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'output' || '{"output_omitted": true}'::jsonb)::text
                         else (e.payload - 'output' - 'error_message'
                               || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text
                    end)
    from (select v.payload, v.payload::text as body
            from unnest(p_events) with ordinality as v(payload, n)
           order by v.n) e;

  -- Run events also go to the flow's channel, for listeners of every run of a flow (the library's
  -- @OnFlowEvent): small, and one per run event only.
  perform pg_notify('pgflow:flow:' || (e.payload ->> 'flow_slug'), e.payload::text)
    from (select jsonb_strip_nulls(jsonb_build_object(
                   'event_type', v.payload -> 'event_type', 'run_id', v.payload -> 'run_id',
                   'flow_slug', v.payload -> 'flow_slug', 'status', v.payload -> 'status',
                   'error_message', left(v.payload ->> 'error_message', 2000),
                   'reason', left(v.payload ->> 'reason', 2000), 'concurrency_key', v.payload -> 'concurrency_key',
                   'at', v.payload -> 'at')) as payload
            from unnest(p_events) with ordinality as v(payload, n)
           where v.payload ->> 'event_type' like 'run:%' and v.payload ? 'flow_slug'
           order by v.n) e;
end;
$$;
