-- step_tasks: the units of work of a step state (one, or one per element of a map), each behind a
-- queue message. Additive column: input (the element a map task works on, computed once when the
-- step starts, so that claiming a task never re-reads a large array); sleep_until (durable sleep:
-- when a step's delayUntil put the task to sleep, the time it wakes, kept so that a later claim does
-- not compute it again).
-- A task of a signal step (steps.signal_name) waiting for its signal has no queue message yet:
-- status queued and message_id null, since queued_at; send_signal sends its message.
-- child_run_id (subflows): the child run a started task of a subflow step waits for; set only while
-- the task is started (its attempt ends when the child run ends: _settle_parent_tasks). Such a task
-- holds no worker; its message stays invisible, and the stalled sweep passes it by.
create table pgflow.step_tasks (
  flow_slug text not null,
  run_id uuid not null,
  step_slug text not null,
  message_id bigint,
  task_index int not null default 0,
  status text not null default 'queued',
  attempts_count int not null default 0,
  error_message text,
  output jsonb,
  queued_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  last_worker_id uuid references pgflow.workers (worker_id) on delete set null,
  requeued_count int not null default 0,
  last_requeued_at timestamptz,
  permanently_stalled_at timestamptz,
  input jsonb,
  cancelled_at timestamptz,
  sleep_until timestamptz,
  child_run_id uuid,
  primary key (run_id, step_slug, task_index),
  foreign key (run_id, step_slug) references pgflow.step_states (run_id, step_slug),
  constraint step_tasks_status_is_valid check (status in ('queued', 'started', 'completed', 'failed', 'cancelled')),
  constraint step_tasks_task_index_non_negative check (task_index >= 0),
  constraint step_tasks_attempts_non_negative check (attempts_count >= 0),
  constraint step_tasks_requeued_non_negative check (requeued_count >= 0),
  constraint step_tasks_output_only_when_finished check (output is null or status in ('completed', 'failed')),
  constraint step_tasks_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at, cancelled_at) <= 1),
  constraint step_tasks_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_tasks_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_tasks_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_tasks_started_tasks_were_attempted check (status <> 'started' or attempts_count > 0),
  constraint step_tasks_completed_after_queued check (completed_at is null or completed_at >= queued_at),
  constraint step_tasks_failed_after_queued check (failed_at is null or failed_at >= queued_at),
  constraint step_tasks_stalled_only_when_failed check (permanently_stalled_at is null or status = 'failed'),
  constraint step_tasks_cancelled_at_matches_status check ((status = 'cancelled') = (cancelled_at is not null)),
  constraint step_tasks_cancelled_after_queued check (cancelled_at is null or cancelled_at >= queued_at),
  constraint step_tasks_sleep_until_after_queued check (sleep_until is null or sleep_until >= queued_at),
  constraint step_tasks_started_has_message check (message_id is not null or status <> 'started'),
  constraint step_tasks_child_run_only_when_started check (child_run_id is null or status = 'started')
);

-- start_tasks finds tasks by their queue message (message ids are per queue, i.e. per flow). The
-- message id leads: "message_id = any($1)" is then an index condition whatever the statistics.
create index step_tasks_message_idx on pgflow.step_tasks (message_id, flow_slug);

-- requeue_stalled_tasks scans only the tasks in flight.
create index step_tasks_started_idx on pgflow.step_tasks (started_at) where status = 'started';

-- The signal timeout sweep (_time_out_signal_waits) scans only the tasks waiting for a signal.
create index step_tasks_waiting_idx on pgflow.step_tasks (queued_at) where status = 'queued' and message_id is null;
