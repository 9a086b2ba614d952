-- Sends events as notifications whose bodies are JSON text: each body on its run's channel,
-- 'pgflow:run:<run_id>', then each flow body that is not null on its flow's channel,
-- 'pgflow:flow:<flow_slug>', all in the given order; the one place that keeps a notification within
-- NOTIFY's size limit. _emit_step_events and _emit_run_events write their bodies as text (about a
-- third of the cost of building them as jsonb and printing them); _notify_run_events prints the jsonb
-- events of _emit_events. The caller has checked _notifications_allowed().
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
  -- does not fit is left out: the output first, then the error.
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
