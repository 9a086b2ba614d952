create function pgflow.start_ready_steps(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._start_ready_steps(array[start_ready_steps.run_id]);
$$;
