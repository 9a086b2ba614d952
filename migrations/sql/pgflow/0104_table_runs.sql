-- runs: one row per execution of a flow.
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
