-- Fires due ticks of a schedule and moves its next tick forward, in one transaction. The library's
-- schedulers call it; SQL cannot parse cron, so the caller computes `ticks` (a JSON array of
-- {"at": <timestamptz>, "run": <boolean>}: run false records a tick missed during downtime that
-- the catch-up policy leaves out) and `next_tick_at`, the first tick after now.
--
-- Exactly once per tick, whatever the number of workers: the schedule's row is locked, and nothing
-- happens unless its next_tick_at still is `expected_next_tick_at` (compare-and-set: the workers that
-- computed the same ticks meanwhile find it moved and do nothing); a tick whose schedule_ticks row
-- exists is never fired again. A started tick's run is started here (start_flow), so the tick exists
-- only with its run. overlap 'skip' records skipped_overlap while the schedule's previous run is in
-- progress; a run that cannot start (its input refused) records failed with the reason, and later
-- ticks go on. Each tick emits schedule:tick (with the new next_tick_at); a call that fires no tick
-- emits schedule:advanced. Returns {schedule_name, advanced, ticks, next_tick_at};
-- advanced is false when another worker was first, the schedule is paused, or it no longer exists.
create function pgflow.fire_schedule(schedule_name text, expected_next_tick_at timestamptz, ticks jsonb,
                                     next_tick_at timestamptz)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_schedule pgflow.schedules;
  v_tick record;
  v_outcome text;
  v_error text;
  v_run_id uuid;
  v_fired jsonb := '[]';
begin
  if jsonb_typeof(fire_schedule.ticks) is distinct from 'array' or fire_schedule.next_tick_at is null then
    raise exception using errcode = 'PF022',
      message = format('fire_schedule(%L) needs ticks as a JSON array and a next_tick_at; got %s and %s.',
                       fire_schedule.schedule_name, coalesce(jsonb_typeof(fire_schedule.ticks), 'null'),
                       coalesce(fire_schedule.next_tick_at::text, 'null')),
      hint = 'Pass [{"at": "<tick>", "run": true}, ...] (or []) and the first tick after now.';
  end if;
  if exists (select 1 from jsonb_array_elements(fire_schedule.ticks) x
              where (x.value ->> 'at')::timestamptz >= fire_schedule.next_tick_at
                 or (x.value ->> 'at')::timestamptz < fire_schedule.expected_next_tick_at) then
    raise exception using errcode = 'PF022',
      message = format('fire_schedule(%L): every tick must be from %s on and before the next tick %s.',
                       fire_schedule.schedule_name, coalesce(fire_schedule.expected_next_tick_at::text, '-infinity'),
                       fire_schedule.next_tick_at),
      hint = 'Pass the due ticks (from the schedule''s next_tick_at up to now) and the first tick after them.';
  end if;
  select * into v_schedule from pgflow.schedules s where s.schedule_name = fire_schedule.schedule_name for update;
  if not found or v_schedule.paused_at is not null
     or v_schedule.next_tick_at is distinct from fire_schedule.expected_next_tick_at then
    return jsonb_build_object('schedule_name', fire_schedule.schedule_name, 'advanced', false, 'ticks', '[]'::jsonb,
                              'next_tick_at', v_schedule.next_tick_at);
  end if;

  for v_tick in
    select distinct (x.value ->> 'at')::timestamptz as at, coalesce((x.value ->> 'run')::boolean, true) as run
      from jsonb_array_elements(fire_schedule.ticks) x
     order by 1
  loop
    continue when exists (select 1 from pgflow.schedule_ticks t
                           where t.schedule_name = v_schedule.schedule_name and t.tick_at = v_tick.at);
    v_run_id := null;
    v_error := null;
    v_outcome := case
      when not v_tick.run then 'skipped_catch_up'
      when v_schedule.overlap = 'skip'
           and exists (select 1 from pgflow.runs r where r.run_id = v_schedule.last_run_id and r.status = 'started')
        then 'skipped_overlap'
      else 'started' end;
    if v_outcome = 'started' then
      begin
        select r.run_id into v_run_id
          from pgflow.start_flow(v_schedule.flow_slug,
                                 coalesce(v_schedule.input, jsonb_build_object('scheduledAt',
                                   to_char(v_tick.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))) r;
        v_schedule.last_run_id := v_run_id;
      exception when others then
        v_outcome := 'failed';
        v_error := format('%s (SQLSTATE %s)', sqlerrm, sqlstate);
      end;
    end if;
    insert into pgflow.schedule_ticks (schedule_name, tick_at, outcome, run_id, error_message)
    values (v_schedule.schedule_name, v_tick.at, v_outcome, v_run_id, v_error);
    v_fired := v_fired || jsonb_build_object('tick_at', v_tick.at, 'outcome', v_outcome, 'run_id', v_run_id,
                                             'error_message', v_error);
    perform pgflow._emit_schedule_event('schedule:tick', v_schedule, jsonb_strip_nulls(jsonb_build_object(
      'tick_at', v_tick.at, 'outcome', v_outcome, 'run_id', v_run_id, 'error_message', left(v_error, 2000),
      'next_tick_at', fire_schedule.next_tick_at)));
  end loop;
  if v_fired = '[]'::jsonb then
    -- Only the next tick moves (computed for a new, changed or resumed schedule, or nothing was due).
    perform pgflow._emit_schedule_event('schedule:advanced', v_schedule,
                                        jsonb_build_object('next_tick_at', fire_schedule.next_tick_at));
  end if;

  update pgflow.schedules s
     set next_tick_at = fire_schedule.next_tick_at,
         last_tick_at = (select max(t) from unnest(array[s.last_tick_at,
                                 (select max((x.value ->> 'at')::timestamptz)
                                    from jsonb_array_elements(fire_schedule.ticks) x)]) t),
         last_run_id = v_schedule.last_run_id,
         updated_at = now()
   where s.schedule_name = v_schedule.schedule_name;
  return jsonb_build_object('schedule_name', v_schedule.schedule_name, 'advanced', true, 'ticks', v_fired,
                            'next_tick_at', fire_schedule.next_tick_at);
end;
$$;
