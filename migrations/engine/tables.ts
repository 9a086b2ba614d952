/**
 * The pgflow schema's tables. Column names, types and statuses are pgflow 0.14's (compatibility);
 * every invariant is a CHECK constraint so that no bug in a function can store an impossible state.
 * Additive columns: step_tasks.input (the element a map task works on, computed once when the step
 * starts, so that claiming a task never re-reads a large array).
 */

export const createSchema = /* sql */ `
create schema pgflow;
comment on schema pgflow is 'nestjs-pgflow workflow engine (pgflow 0.14 compatible)';
`;

export const createSlugFunction = /* sql */ `
create function pgflow.is_valid_slug(slug text)
returns boolean
language sql
immutable
parallel safe
set search_path to ''
as $$
  select slug is not null
     and slug ~ '^[a-zA-Z_][a-zA-Z0-9_]*$'
     and length(slug) <= 128
     and slug <> 'run'
$$;
`;

export const createDefinitionTables = /* sql */ `
create table pgflow.flows (
  flow_slug text primary key,
  opt_max_attempts int not null default 3,
  opt_base_delay int not null default 1,
  opt_timeout int not null default 60,
  created_at timestamptz not null default now(),
  constraint flows_slug_is_valid check (pgflow.is_valid_slug(flow_slug)),
  constraint flows_max_attempts_non_negative check (opt_max_attempts >= 0),
  constraint flows_base_delay_non_negative check (opt_base_delay >= 0),
  constraint flows_timeout_positive check (opt_timeout > 0)
);

create table pgflow.steps (
  flow_slug text not null references pgflow.flows (flow_slug),
  step_slug text not null,
  step_type text not null default 'single',
  step_index int not null default 0,
  deps_count int not null default 0,
  opt_max_attempts int,
  opt_base_delay int,
  opt_timeout int,
  opt_start_delay int,
  required_input_pattern jsonb,
  forbidden_input_pattern jsonb,
  when_unmet text not null default 'skip',
  when_exhausted text not null default 'fail',
  created_at timestamptz not null default now(),
  primary key (flow_slug, step_slug),
  unique (flow_slug, step_index),
  constraint steps_slug_is_valid check (pgflow.is_valid_slug(step_slug)),
  constraint steps_type_is_valid check (step_type in ('single', 'map')),
  constraint steps_index_non_negative check (step_index >= 0),
  constraint steps_deps_count_non_negative check (deps_count >= 0),
  constraint steps_map_has_at_most_one_dependency check (step_type = 'single' or deps_count <= 1),
  constraint steps_max_attempts_non_negative check (opt_max_attempts is null or opt_max_attempts >= 0),
  constraint steps_base_delay_non_negative check (opt_base_delay is null or opt_base_delay >= 0),
  constraint steps_timeout_positive check (opt_timeout is null or opt_timeout > 0),
  constraint steps_start_delay_non_negative check (opt_start_delay is null or opt_start_delay >= 0),
  constraint steps_required_pattern_is_object
    check (required_input_pattern is null or jsonb_typeof(required_input_pattern) = 'object'),
  constraint steps_forbidden_pattern_is_object
    check (forbidden_input_pattern is null or jsonb_typeof(forbidden_input_pattern) = 'object'),
  constraint steps_when_unmet_is_valid check (when_unmet in ('fail', 'skip', 'skip-cascade')),
  constraint steps_when_exhausted_is_valid check (when_exhausted in ('fail', 'skip', 'skip-cascade'))
);

create table pgflow.deps (
  flow_slug text not null references pgflow.flows (flow_slug),
  dep_slug text not null,
  step_slug text not null,
  created_at timestamptz not null default now(),
  primary key (flow_slug, dep_slug, step_slug),
  foreign key (flow_slug, dep_slug) references pgflow.steps (flow_slug, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  constraint deps_not_self check (dep_slug <> step_slug)
);
-- The primary key finds a step's dependents; this finds its dependencies.
create index deps_step_idx on pgflow.deps (flow_slug, step_slug);
`;

export const createRuntimeTables = /* sql */ `
create table pgflow.workers (
  worker_id uuid primary key,
  queue_name text not null,
  function_name text not null,
  started_at timestamptz not null default now(),
  deprecated_at timestamptz,
  stopped_at timestamptz,
  last_heartbeat_at timestamptz not null default now()
);

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
  constraint runs_status_is_valid check (status in ('started', 'completed', 'failed')),
  constraint runs_remaining_steps_non_negative check (remaining_steps >= 0),
  constraint runs_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at) <= 1),
  constraint runs_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint runs_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint runs_completed_after_start check (completed_at is null or completed_at >= started_at),
  constraint runs_failed_after_start check (failed_at is null or failed_at >= started_at),
  constraint runs_output_only_when_completed check (output is null or status = 'completed'),
  constraint runs_completed_has_no_remaining_steps check (status <> 'completed' or remaining_steps = 0)
);
create index runs_flow_slug_idx on pgflow.runs (flow_slug);

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
  primary key (run_id, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  constraint step_states_status_is_valid
    check (status in ('created', 'started', 'completed', 'failed', 'skipped')),
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
    or status = 'failed' or remaining_deps = 0),
  constraint step_states_output_only_when_completed check (output is null or status = 'completed'),
  constraint step_states_error_only_when_failed_or_skipped
    check (error_message is null or status in ('failed', 'skipped')),
  constraint step_states_skip_reason_iff_skipped check ((status = 'skipped') = (skip_reason is not null)),
  constraint step_states_skip_reason_is_valid
    check (skip_reason is null or skip_reason in ('condition_unmet', 'handler_failed', 'dependency_skipped')),
  constraint step_states_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at, skipped_at) <= 1),
  constraint step_states_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_states_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_states_skipped_at_matches_status check ((status = 'skipped') = (skipped_at is not null)),
  constraint step_states_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_states_started_after_created check (started_at is null or started_at >= created_at),
  constraint step_states_completed_after_start
    check (completed_at is null or completed_at >= coalesce(started_at, created_at)),
  constraint step_states_failed_after_start
    check (failed_at is null or failed_at >= coalesce(started_at, created_at)),
  constraint step_states_skipped_after_created check (skipped_at is null or skipped_at >= created_at)
);

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
  primary key (run_id, step_slug, task_index),
  foreign key (run_id, step_slug) references pgflow.step_states (run_id, step_slug),
  constraint step_tasks_status_is_valid check (status in ('queued', 'started', 'completed', 'failed')),
  constraint step_tasks_task_index_non_negative check (task_index >= 0),
  constraint step_tasks_attempts_non_negative check (attempts_count >= 0),
  constraint step_tasks_requeued_non_negative check (requeued_count >= 0),
  constraint step_tasks_output_only_when_finished check (output is null or status in ('completed', 'failed')),
  constraint step_tasks_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at) <= 1),
  constraint step_tasks_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_tasks_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_tasks_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_tasks_started_tasks_were_attempted check (status <> 'started' or attempts_count > 0),
  constraint step_tasks_completed_after_queued check (completed_at is null or completed_at >= queued_at),
  constraint step_tasks_failed_after_queued check (failed_at is null or failed_at >= queued_at),
  constraint step_tasks_stalled_only_when_failed check (permanently_stalled_at is null or status = 'failed')
);
-- start_tasks finds tasks by their queue message (message ids are per queue, i.e. per flow). The
-- message id leads: "message_id = any($1)" is then an index condition whatever the statistics.
create index step_tasks_message_idx on pgflow.step_tasks (message_id, flow_slug);
-- requeue_stalled_tasks scans only the tasks in flight.
create index step_tasks_started_idx on pgflow.step_tasks (started_at) where status = 'started';

create type pgflow.step_task_record as (
  flow_slug text,
  run_id uuid,
  step_slug text,
  input jsonb,
  msg_id bigint,
  task_index int,
  flow_input jsonb
);
`;
