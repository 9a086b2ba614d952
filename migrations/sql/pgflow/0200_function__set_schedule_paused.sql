-- pause_schedule and resume_schedule: sets or clears the schedule's paused_at and emits
-- schedule:paused or schedule:resumed. Resuming clears next_tick_at: the next tick is computed from
-- the moment of the resume, so the ticks of the pause are not caught up. Returns {schedule_name,
-- flow_slug, paused, paused_at, changed}; changed is false when it already was in that state.
create function pgflow._set_schedule_paused(p_schedule_name text, p_paused boolean)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_schedule pgflow.schedules;
  v_changed boolean;
begin
  select * into v_schedule from pgflow.schedules s where s.schedule_name = p_schedule_name for update;
  if not found then
    raise exception using errcode = 'PF020',
      message = format('Schedule %L does not exist, so it cannot be %s.', p_schedule_name,
                       case when p_paused then 'paused' else 'resumed' end),
      hint = format('Check the name; the schedules are: %s.',
                    coalesce((select string_agg(s.schedule_name, ', ' order by s.schedule_name)
                                from (select s.schedule_name from pgflow.schedules s
                                       order by s.schedule_name limit 50) s), 'none'));
  end if;
  v_changed := (v_schedule.paused_at is not null) <> p_paused;
  if v_changed then
    update pgflow.schedules s
       set paused_at = case when p_paused then now() end,
           next_tick_at = case when p_paused then s.next_tick_at end,
           updated_at = now()
     where s.schedule_name = p_schedule_name
    returning * into v_schedule;
    perform pgflow._emit_schedule_event(case when p_paused then 'schedule:paused' else 'schedule:resumed' end,
                                        v_schedule);
  end if;
  return jsonb_build_object('schedule_name', v_schedule.schedule_name, 'flow_slug', v_schedule.flow_slug,
                            'paused', v_schedule.paused_at is not null, 'paused_at', v_schedule.paused_at,
                            'changed', v_changed);
end;
$$;
