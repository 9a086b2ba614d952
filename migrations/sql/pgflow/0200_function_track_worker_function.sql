-- pgflow's track_worker_function: records (or refreshes) the function a pgflow edge worker runs in.
create function pgflow.track_worker_function(function_name text)
returns void
language sql
volatile
set search_path to ''
as $$
  insert into pgflow.worker_functions (function_name, updated_at)
  values (track_worker_function.function_name, clock_timestamp())
  on conflict (function_name) do update set updated_at = clock_timestamp()
$$;
