-- Schedule events (schedule:created, updated, removed, paused, resumed, tick) go to one channel,
-- 'pgflow:schedules', with the schedule's name and flow and `p_extra`. The library's schedulers
-- LISTEN to it to re-read the schedules at once after a change instead of polling for changes.
create function pgflow._emit_schedule_event(p_event_type text, p_schedule pgflow.schedules,
                                            p_extra jsonb default '{}')
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  if pgflow._notifications_allowed() then
    perform pg_notify('pgflow:schedules', left((jsonb_build_object(
      'event_type', p_event_type, 'schedule_name', p_schedule.schedule_name, 'flow_slug', p_schedule.flow_slug,
      'paused', p_schedule.paused_at is not null, 'at', clock_timestamp()) || p_extra)::text, 7500));
  end if;
end;
$$;
