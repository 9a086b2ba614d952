-- Run events carry the run's columns (its input, and a completed run's output), and `p_extra` (all of
-- them for Supabase Realtime).
create function pgflow._emit_run_events(p_event_type text, p_runs pgflow.runs[], p_extra jsonb default '{}')
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
  if p_extra = '{}'::jsonb and not pgflow._realtime_enabled() then
    -- Only notifications go out: each written as JSON text from its row with only what it carries
    -- (_notify_event_texts), the same keys as _emit_events would leave of the event below; on the
    -- flow's channel the same event without the output.
    if pgflow._notifications_allowed() then
      select array_agg(e.run_id order by e.n), array_agg(e.head || e.tail order by e.n),
             array_agg(e.flow_slug order by e.n), array_agg(e.head || '}' order by e.n)
        into v_run_ids, v_bodies, v_flow_slugs, v_flow_bodies
        from (select r.run_id, r.flow_slug, r.ordinality as n,
                     '{"event_type":' || to_json(p_event_type)::text
                     || ',"run_id":"' || r.run_id::text
                     || '","flow_slug":' || to_json(r.flow_slug)::text
                     || ',"status":' || to_json(r.status)::text
                     || coalesce(',"concurrency_key":' || to_json(r.concurrency_key)::text, '')
                     || ',"at":' || to_json(clock_timestamp())::text as head,
                     case when r.status = 'completed' then ',"output":' || coalesce(r.output::text, 'null') || '}'
                          else '}' end as tail
                from unnest(p_runs) with ordinality r) e;
      perform pgflow._notify_event_texts(v_run_ids, v_bodies, v_flow_slugs, v_flow_bodies);
    end if;
    return;
  end if;
  perform pgflow._emit_events(
    array_agg(r.run_id order by r.ordinality),
    array_agg(jsonb_strip_nulls(jsonb_build_object(
                'event_type', p_event_type,
                'flow_slug', r.flow_slug,
                'status', r.status,
                'started_at', r.started_at,
                'completed_at', r.completed_at,
                'failed_at', r.failed_at,
                'cancelled_at', r.cancelled_at,
                'remaining_steps', r.remaining_steps,
                -- The key of the flow's per-key concurrency limit, for runs started with one.
                'concurrency_key', r.concurrency_key))
              -- The input, as pgflow's run:started carries it, and a completed run's output (for realtime;
              -- a notification never carries the input, see _emit_events).
              || case r.status when 'completed' then jsonb_build_object('output', r.output, 'input', r.input)
                               when 'started' then jsonb_build_object('input', r.input)
                               else '{}'::jsonb end
              || p_extra
              order by r.ordinality))
    from unnest(p_runs) with ordinality r;
end;
$$;
