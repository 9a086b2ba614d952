-- Step events carry the step state's columns (all of them for Supabase Realtime).
create function pgflow._emit_step_events(p_event_type text, p_states pgflow.step_states[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  if not pgflow._realtime_enabled() then
    -- Only notifications go out: each built from its row with only what it carries (_notify_run_events),
    -- the same as _emit_events would leave of the event below.
    if pgflow._notifications_allowed() then
      perform pgflow._notify_run_events(array(
        select jsonb_strip_nulls(jsonb_build_object(
                 'event_type', p_event_type,
                 'run_id', s.run_id,
                 'flow_slug', s.flow_slug,
                 'step_slug', s.step_slug,
                 'status', s.status,
                 'error_message', s.error_message,
                 'skip_reason', s.skip_reason,
                 'at', clock_timestamp()))
               || case when s.status = 'completed' then jsonb_build_object('output', s.output) else '{}'::jsonb end
          from unnest(p_states) with ordinality s
         order by s.ordinality));
    end if;
    return;
  end if;
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
                'cancelled_at', s.cancelled_at,
                'remaining_tasks', s.remaining_tasks,
                'remaining_deps', s.remaining_deps,
                'initial_tasks', s.initial_tasks))
              -- The output is kept even when it is JSON null: a null output is an output.
              || case when s.status = 'completed' then jsonb_build_object('output', s.output) else '{}'::jsonb end
              order by s.ordinality))
    from unnest(p_states) with ordinality s;
end;
$$;
