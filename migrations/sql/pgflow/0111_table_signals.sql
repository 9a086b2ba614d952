-- signals: what send_signal delivered to a run, one row per signal name and run (the primary key
-- refuses a second signal of a name). Kept whether or not the step waiting for it was ready: a
-- signal sent before its step starts waits here, and the step's task starts with it at once.
-- delivered_at: when the waiting step's task got it (its queue message was sent).
create table pgflow.signals (
  run_id uuid not null references pgflow.runs (run_id) on delete cascade,
  signal_name text not null,
  payload jsonb not null,
  sent_at timestamptz not null default now(),
  delivered_at timestamptz,
  primary key (run_id, signal_name),
  constraint signals_name_is_valid check (pgflow.is_valid_slug(signal_name)),
  constraint signals_delivered_after_sent check (delivered_at is null or delivered_at >= sent_at)
);
