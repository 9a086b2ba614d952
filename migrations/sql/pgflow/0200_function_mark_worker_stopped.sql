-- pgflow's mark_worker_stopped: the worker stopped itself.
create function pgflow.mark_worker_stopped(worker_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  update pgflow.workers w set stopped_at = now(), stop_reason = 'stopped'
   where w.worker_id = mark_worker_stopped.worker_id;
$$;
