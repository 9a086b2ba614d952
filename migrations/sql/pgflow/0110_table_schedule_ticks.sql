-- schedule_ticks: one row per tick a schedule fired or skipped. The primary key is what makes a tick
-- fire exactly once however many workers reach it: fire_schedule inserts the tick's row before it
-- starts the run, in the same transaction, and a tick whose row exists is not fired again.
-- outcome: started (run_id is its run), skipped_overlap (overlap 'skip' and the previous run was in
-- progress), skipped_catch_up (missed while no worker ran, and catchUp 'none' or 'latest' left it
-- out), failed (the run could not be started: error_message says why).
create table pgflow.schedule_ticks (
  schedule_name text not null references pgflow.schedules (schedule_name) on delete cascade,
  tick_at timestamptz not null,
  outcome text not null,
  run_id uuid,
  error_message text,
  created_at timestamptz not null default now(),
  primary key (schedule_name, tick_at),
  constraint schedule_ticks_outcome_is_valid
    check (outcome in ('started', 'skipped_overlap', 'skipped_catch_up', 'failed')),
  constraint schedule_ticks_run_only_when_started check ((outcome = 'started') = (run_id is not null)),
  constraint schedule_ticks_error_only_when_failed check ((outcome = 'failed') = (error_message is not null))
);
