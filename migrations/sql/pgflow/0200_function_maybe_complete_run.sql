create function pgflow.maybe_complete_run(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._complete_finished_runs(array[maybe_complete_run.run_id]);
$$;
