-- workers: one row per worker (per served flow of a process), with its heartbeat. Additive columns:
-- dead_after, how late its heartbeat may be before any other worker declares it dead and hands its
-- started tasks to others (null: never, as for pgflow's own workers, whose tasks only come back after
-- their timeout); stop_reason, why stopped_at is set ('stopped': it stopped itself; 'declared_dead').
create table pgflow.workers (
  worker_id uuid primary key,
  queue_name text not null,
  function_name text not null,
  started_at timestamptz not null default now(),
  deprecated_at timestamptz,
  stopped_at timestamptz,
  last_heartbeat_at timestamptz not null default now(),
  dead_after interval,
  stop_reason text,
  constraint workers_dead_after_positive check (dead_after is null or dead_after > interval '0'),
  constraint workers_stop_reason_is_valid check (stop_reason is null or stop_reason in ('stopped', 'declared_dead')),
  constraint workers_stop_reason_only_when_stopped check (stop_reason is null or stopped_at is not null)
);
