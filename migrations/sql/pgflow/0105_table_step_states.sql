-- step_states: one row per step of a run, with the counters that drive the cascade. Additive column:
-- cancelled_at (cancel_run).
-- fillfactor 75: a step state is updated in place when it starts and when it ends (with its output);
-- room on the page makes those HOT updates, with no new index entry (see runs).
create table pgflow.step_states (
  flow_slug text not null,
  run_id uuid not null references pgflow.runs (run_id),
  step_slug text not null,
  status text not null default 'created',
  remaining_tasks int,
  initial_tasks int,
  remaining_deps int not null default 0,
  output jsonb,
  error_message text,
  skip_reason text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  skipped_at timestamptz,
  cancelled_at timestamptz,
  primary key (run_id, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  -- Every rule of a row (its states, timestamps and counters) is in pgflow._check_step_states_row.
  constraint step_states_rules check (pgflow._check_step_states_row(
    status, remaining_tasks, initial_tasks, remaining_deps, output, error_message, skip_reason,
    created_at, started_at, completed_at, failed_at, skipped_at, cancelled_at))
) with (fillfactor = 75);
