-- Step events carry the step state's columns (all of them for Supabase Realtime).
create function pgflow._emit_step_events(p_event_type text, p_states pgflow.step_states[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run_ids uuid[];
  v_bodies text[];
begin
  if not pgflow._realtime_enabled() then
    -- Only notifications go out: each written as JSON text from its row with only what it carries
    -- (_notify_event_texts), the same keys as _emit_events would leave of the event below. The
    -- output is kept even when it is JSON null.
    if pgflow._notifications_allowed() then
      select array_agg(s.run_id order by s.ordinality),
             array_agg('{"event_type":' || to_json(p_event_type)::text
                       || ',"run_id":"' || s.run_id::text
                       || '","flow_slug":' || to_json(s.flow_slug)::text
                       || ',"step_slug":' || to_json(s.step_slug)::text
                       || ',"status":' || to_json(s.status)::text
                       || coalesce(',"error_message":' || to_json(s.error_message)::text, '')
                       || coalesce(',"skip_reason":' || to_json(s.skip_reason)::text, '')
                       || ',"at":' || to_json(clock_timestamp())::text
                       || case when s.status = 'completed' then ',"output":' || coalesce(s.output::text, 'null')
                               else '' end
                       || '}' order by s.ordinality)
        into v_run_ids, v_bodies
        from unnest(p_states) with ordinality s;
      perform pgflow._notify_event_texts(v_run_ids, v_bodies);
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
