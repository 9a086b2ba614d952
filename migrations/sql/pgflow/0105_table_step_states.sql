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
  constraint step_states_status_is_valid
    check (status in ('created', 'started', 'completed', 'failed', 'skipped', 'cancelled')),
  constraint step_states_remaining_deps_non_negative check (remaining_deps >= 0),
  constraint step_states_initial_tasks_non_negative check (initial_tasks is null or initial_tasks >= 0),
  constraint step_states_remaining_tasks_non_negative check (remaining_tasks is null or remaining_tasks >= 0),
  constraint step_states_remaining_tasks_matches_status check (
    case status
      when 'created' then remaining_tasks is null
      when 'started' then remaining_tasks is not null and remaining_tasks > 0
      when 'completed' then remaining_tasks = 0
      else true
    end),
  constraint step_states_started_knows_its_tasks
    check (status not in ('started', 'completed') or initial_tasks is not null),
  constraint step_states_remaining_within_initial
    check (remaining_tasks is null or initial_tasks is null or remaining_tasks <= initial_tasks),
  constraint step_states_ready_before_start check (status = 'created' or status = 'skipped'
    or status = 'failed' or status = 'cancelled' or remaining_deps = 0),
  constraint step_states_output_only_when_completed check (output is null or status = 'completed'),
  constraint step_states_error_only_when_failed_or_skipped
    check (error_message is null or status in ('failed', 'skipped')),
  constraint step_states_skip_reason_iff_skipped check ((status = 'skipped') = (skip_reason is not null)),
  constraint step_states_skip_reason_is_valid
    check (skip_reason is null or skip_reason in ('condition_unmet', 'handler_failed', 'dependency_skipped')),
  constraint step_states_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at, skipped_at, cancelled_at) <= 1),
  constraint step_states_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_states_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_states_skipped_at_matches_status check ((status = 'skipped') = (skipped_at is not null)),
  constraint step_states_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_states_started_after_created check (started_at is null or started_at >= created_at),
  constraint step_states_completed_after_start
    check (completed_at is null or completed_at >= coalesce(started_at, created_at)),
  constraint step_states_failed_after_start
    check (failed_at is null or failed_at >= coalesce(started_at, created_at)),
  constraint step_states_skipped_after_created check (skipped_at is null or skipped_at >= created_at),
  constraint step_states_cancelled_at_matches_status check ((status = 'cancelled') = (cancelled_at is not null)),
  constraint step_states_cancelled_after_created check (cancelled_at is null or cancelled_at >= created_at)
) with (fillfactor = 75);
