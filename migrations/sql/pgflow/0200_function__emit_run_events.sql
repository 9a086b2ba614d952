-- Run events carry the run's columns (its input, and a completed run's output), and `p_extra` (all of
-- them for Supabase Realtime).
create function pgflow._emit_run_events(p_event_type text, p_runs pgflow.runs[], p_extra jsonb default '{}')
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  if p_extra = '{}'::jsonb and not pgflow._realtime_enabled() then
    -- Only notifications go out: each built from its row with only what it carries (_notify_run_events),
    -- the same as _emit_events would leave of the event below.
    if pgflow._notifications_allowed() then
      perform pgflow._notify_run_events(array(
        select jsonb_strip_nulls(jsonb_build_object(
                 'event_type', p_event_type,
                 'run_id', r.run_id,
                 'flow_slug', r.flow_slug,
                 'status', r.status,
                 'concurrency_key', r.concurrency_key,
                 'at', clock_timestamp()))
               || case when r.status = 'completed' then jsonb_build_object('output', r.output) else '{}'::jsonb end
          from unnest(p_runs) with ordinality r
         order by r.ordinality));
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
