-- runs: one row per execution of a flow. Additive columns: cancelled_at and cancel_reason (cancel_run);
-- idempotency_key, the caller's key of an idempotent start (unique per flow); trace_context, the W3C
-- traceparent of the span that started the run, so that a worker in another process continues its trace.
-- parent_run_id, parent_step_slug, parent_task_index (subflows): the task of another run that started
-- this run as its child and waits for its end (_start_child_run); all three or none. Not a foreign key:
-- pruning and delete_flow_and_data remove runs flow by flow, and a child run's link is history.
create table pgflow.runs (
  run_id uuid primary key default gen_random_uuid(),
  flow_slug text not null references pgflow.flows (flow_slug),
  status text not null default 'started',
  input jsonb not null,
  output jsonb,
  remaining_steps int not null default 0,
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  failed_at timestamptz,
  cancelled_at timestamptz,
  cancel_reason text,
  idempotency_key text,
  trace_context text,
  parent_run_id uuid,
  parent_step_slug text,
  parent_task_index int,
  constraint runs_status_is_valid check (status in ('started', 'completed', 'failed', 'cancelled')),
  constraint runs_remaining_steps_non_negative check (remaining_steps >= 0),
  constraint runs_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at, cancelled_at) <= 1),
  constraint runs_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint runs_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint runs_completed_after_start check (completed_at is null or completed_at >= started_at),
  constraint runs_failed_after_start check (failed_at is null or failed_at >= started_at),
  constraint runs_output_only_when_completed check (output is null or status = 'completed'),
  constraint runs_completed_has_no_remaining_steps check (status <> 'completed' or remaining_steps = 0),
  constraint runs_cancelled_at_matches_status check ((status = 'cancelled') = (cancelled_at is not null)),
  constraint runs_cancelled_after_start check (cancelled_at is null or cancelled_at >= started_at),
  constraint runs_cancel_reason_only_when_cancelled check (cancel_reason is null or status = 'cancelled'),
  constraint runs_idempotency_key_length check (idempotency_key is null or length(idempotency_key) between 1 and 255),
  constraint runs_trace_context_is_traceparent
    check (trace_context is null or trace_context ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'),
  constraint runs_parent_all_or_none
    check (num_nulls(parent_run_id, parent_step_slug, parent_task_index) in (0, 3)),
  constraint runs_parent_task_index_non_negative check (parent_task_index is null or parent_task_index >= 0),
  constraint runs_parent_is_another_run check (parent_run_id is null or parent_run_id <> run_id)
);

-- Newest runs first (list_runs), of all flows or of one: keyset pages are index scans, no sort. The
-- second also serves lookups by flow (delete_flow_and_data, pruning).
create index runs_started_at_idx on pgflow.runs (started_at desc, run_id desc);
create index runs_flow_started_at_idx on pgflow.runs (flow_slug, started_at desc, run_id desc);

-- One run per flow and idempotency key; runs started without a key cost nothing here.
create unique index runs_idempotency_key_idx on pgflow.runs (flow_slug, idempotency_key)
  where idempotency_key is not null;

-- A run's child runs (getRun, cancel_run's cascade to them); runs without a parent cost nothing here.
create index runs_parent_idx on pgflow.runs (parent_run_id, parent_step_slug, parent_task_index)
  where parent_run_id is not null;
