-- worker_functions: pgflow's registry of the Supabase Edge Functions that run its workers, which
-- pgflow's edge worker fills at startup (track_worker_function). Kept so that pgflow's worker runs
-- unchanged; nestjs-pgflow's own workers do not use it.
create table pgflow.worker_functions (
  function_name text primary key,
  enabled boolean not null default true,
  debounce interval not null default '6 seconds',
  last_invoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint worker_functions_debounce_at_least_a_second check (debounce >= interval '1 second')
);
