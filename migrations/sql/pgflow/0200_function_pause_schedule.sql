-- Pauses a schedule: from the commit on, no worker fires its ticks. Lasts until resume_schedule,
-- restarts and boot-time syncs included. Unknown name: PF020.
create function pgflow.pause_schedule(schedule_name text)
returns jsonb
language sql
volatile
set search_path to ''
as $$
  select pgflow._set_schedule_paused(pause_schedule.schedule_name, true);
$$;
