-- Sends events as notifications: each on its run's channel, 'pgflow:run:<run_id>', and a run event
-- also on its flow's, 'pgflow:flow:<flow_slug>', all in the given order. p_events hold only what a
-- notification carries (the library's RunEvent: see _emit_events), with run_id and at. The events are
-- printed and sent by _notify_event_texts, which keeps each within NOTIFY's size limit. The caller has
-- checked _notifications_allowed().
create function pgflow._notify_run_events(p_events jsonb[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run_ids uuid[];
  v_bodies text[];
  v_flow_slugs text[];
  v_flow_bodies text[];
begin
  -- Run events also go to the flow's channel, for listeners of every run of a flow (the library's
  -- @OnFlowEvent): small, and one per run event only (null for the others).
  select array_agg((v.payload ->> 'run_id')::uuid order by v.n), array_agg(v.payload::text order by v.n),
         array_agg(v.payload ->> 'flow_slug' order by v.n),
         array_agg(case when v.payload ->> 'event_type' like 'run:%' and v.payload ? 'flow_slug' then
                     jsonb_strip_nulls(jsonb_build_object(
                       'event_type', v.payload -> 'event_type', 'run_id', v.payload -> 'run_id',
                       'flow_slug', v.payload -> 'flow_slug', 'status', v.payload -> 'status',
                       'error_message', left(v.payload ->> 'error_message', 2000),
                       'reason', left(v.payload ->> 'reason', 2000),
                       'concurrency_key', v.payload -> 'concurrency_key', 'at', v.payload -> 'at'))::text
                   end order by v.n)
    into v_run_ids, v_bodies, v_flow_slugs, v_flow_bodies
    from unnest(p_events) with ordinality as v(payload, n);
  perform pgflow._notify_event_texts(v_run_ids, v_bodies, v_flow_slugs, v_flow_bodies);
end;
$$;
