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
  -- Every rule of a row (its states, timestamps and counters) is in pgflow._check_step_tasks_row.
  constraint step_tasks_rules check (pgflow._check_step_tasks_row(
    message_id, task_index, status, attempts_count, output, queued_at, started_at, completed_at,
    failed_at, requeued_count, permanently_stalled_at, cancelled_at, sleep_until, child_run_id))
);

-- start_tasks finds tasks by their queue message (message ids are per queue, i.e. per flow). The
-- message id leads: "message_id = any($1)" is then an index condition whatever the statistics.
create index step_tasks_message_idx on pgflow.step_tasks (message_id, flow_slug);

-- requeue_stalled_tasks scans only the tasks in flight.
create index step_tasks_started_idx on pgflow.step_tasks (started_at) where status = 'started';

-- The signal timeout sweep (_time_out_signal_waits) scans only the tasks waiting for a signal.
create index step_tasks_waiting_idx on pgflow.step_tasks (queued_at) where status = 'queued' and message_id is null;
