-- Resumes a paused schedule: it fires again from its first tick after the resume (the ticks of the
-- pause are skipped, whatever its catch-up policy). Unknown name: PF020.
create function pgflow.resume_schedule(schedule_name text)
returns jsonb
language sql
volatile
set search_path to ''
as $$
  select pgflow._set_schedule_paused(resume_schedule.schedule_name, false);
$$;
