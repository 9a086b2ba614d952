-- Sends notifications whose bodies were written as JSON text (_emit_step_events, _emit_run_events):
-- each body on its run's channel, 'pgflow:run:<run_id>', then each flow body that is not null on its
-- flow's channel, 'pgflow:flow:<flow_slug>', all in the given order. Written as text, an event costs
-- about a third of building it as jsonb and printing it (_notify_run_events, which Realtime's path
-- keeps). The caller has checked _notifications_allowed().
create function pgflow._notify_event_texts(
  p_run_ids uuid[], p_bodies text[], p_flow_slugs text[] default null, p_flow_bodies text[] default null
)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- 7,500 bytes leave room under NOTIFY's 8,000-byte limit for the channel name and framing. What
  -- does not fit is left out, as _notify_run_events does: the output first, then the error.
  perform pg_notify('pgflow:run:' || e.run_id::text,
                    case when octet_length(e.body) <= 7500 then e.body
                         when octet_length((e.body::jsonb - 'output' || '{"output_omitted": true}'::jsonb)::text) <= 7500
                           then (e.body::jsonb - 'output' || '{"output_omitted": true}'::jsonb)::text
                         else (e.body::jsonb - 'output' - 'error_message'
                               || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text
                    end)
    from (select v.run_id, v.body
            from unnest(p_run_ids, p_bodies) with ordinality as v(run_id, body, n)
           order by v.n) e;

  if p_flow_bodies is not null then
    perform pg_notify('pgflow:flow:' || e.flow_slug, e.body)
      from (select v.flow_slug, v.body
              from unnest(p_flow_slugs, p_flow_bodies) with ordinality as v(flow_slug, body, n)
             where v.body is not null
             order by v.n) e;
  end if;
end;
$$;
