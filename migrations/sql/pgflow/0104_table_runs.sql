-- runs: one row per execution of a flow. Additive columns: cancelled_at and cancel_reason (cancel_run);
-- idempotency_key, the caller's key of an idempotent start (unique per flow); trace_context, the W3C
-- traceparent of the span that started the run, so that a worker in another process continues its trace.
-- parent_run_id, parent_step_slug, parent_task_index (subflows): the task of another run that started
-- this run as its child and waits for its end (_start_child_run); all three or none. Not a foreign key:
-- pruning and delete_flow_and_data remove runs flow by flow, and a child run's link is history.
-- priority (start_flow's priority, a child run gets its parent's): among a flow's ready tasks, those of
-- runs with a higher priority are claimed first (_claim_tasks); 0 by default.
-- rate_limit_key: the bucket of the flow's rate limit its tasks count against (null: the flow's one
-- bucket for runs without a key).
-- concurrency_key: the key of the flow's per-key concurrency limit (flows.opt_concurrency_per_key) the
-- run counts against; concurrency_state: null (not limited: no key, or no per-key limit when it started),
-- 'waiting' (over the limit: none of its steps starts until a slot frees, _admit_runs) or 'admitted'
-- (holds one of its key's slots while started; pgflow.concurrency_keys counts them). concurrency_ticket:
-- a waiting run's place in its key's line (from runs_concurrency_ticket_seq, in the order of start_flows'
-- inputs), after priority.
create sequence pgflow.runs_concurrency_ticket_seq;

-- fillfactor 75: a run's row is updated in place as its steps end (remaining_steps, then its end with
-- the output); the room left on each page lets those be HOT updates, which write no index entry (2
-- fewer index entries per one-step run, 15% less WAL at its completion: npm run bench -- cost).
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
  priority int not null default 0,
  rate_limit_key text,
  concurrency_key text,
  concurrency_state text,
  concurrency_ticket bigint,
  -- Every rule of a row (its states, timestamps and counters) is in pgflow._check_runs_row.
  constraint runs_rules check (pgflow._check_runs_row(
    run_id, status, output, remaining_steps, started_at, completed_at, failed_at, cancelled_at,
    cancel_reason, idempotency_key, trace_context, parent_run_id, parent_step_slug,
    parent_task_index, priority, rate_limit_key, concurrency_key, concurrency_state,
    concurrency_ticket))
) with (fillfactor = 75);

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

-- The runs of a flow that have a priority (_claim_tasks reads its queue in priority order while one of
-- them is started); runs of priority 0, nearly all of them, cost nothing here. Not keyed by status: an
-- index on it would make every run's end a non-HOT update.
create index runs_priority_idx on pgflow.runs (flow_slug) where priority <> 0;

-- The runs waiting for a slot of their key (_admit_runs takes them in this order); the others cost
-- nothing here.
create index runs_concurrency_waiting_idx on pgflow.runs (flow_slug, concurrency_key, priority desc, concurrency_ticket)
  where concurrency_state = 'waiting';
