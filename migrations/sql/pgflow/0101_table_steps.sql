-- steps: the nodes of a flow's DAG, in the order they were added (a valid topological order).
-- Additive columns: signal_name (a signal step: its task waits, holding no worker, until
-- send_signal delivers the signal of that name to the run) and signal_timeout (seconds it may wait
-- before failing like an exhausted task); kept up to date by _sync_step_signals. opt_concurrency
-- (@Step({ concurrency })): at most this many tasks of the step started at once across all workers;
-- null: no limit (kept up to date by _sync_flow_concurrency).
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
  signal_name text,
  signal_timeout int,
  opt_concurrency int,
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
  constraint steps_when_exhausted_is_valid check (when_exhausted in ('fail', 'skip', 'skip-cascade')),
  constraint steps_signal_name_is_valid check (signal_name is null or pgflow.is_valid_slug(signal_name)),
  constraint steps_signal_step_is_single check (signal_name is null or step_type = 'single'),
  constraint steps_signal_timeout_positive check (signal_timeout is null or signal_timeout > 0),
  constraint steps_signal_timeout_needs_signal check (signal_timeout is null or signal_name is not null),
  constraint steps_concurrency_positive check (opt_concurrency is null or opt_concurrency > 0)
);

-- One step per signal name in a flow: the name says which step a signal is for.
create unique index steps_signal_name_idx on pgflow.steps (flow_slug, signal_name) where signal_name is not null;
