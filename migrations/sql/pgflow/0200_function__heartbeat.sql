-- A worker's heartbeat. A worker another one declared dead (its heartbeat was later than its
-- dead_after: a blocked event loop, a paused VM) is alive again from now on; the caller learns that
-- its started tasks were handed to others, so that it can say so.
create function pgflow._heartbeat(p_worker_ids uuid[])
returns table (worker_id uuid, was_declared_dead boolean)
language sql
volatile
set search_path to ''
as $$
  with before as (
    select w.worker_id, w.stop_reason = 'declared_dead' as was_declared_dead
      from pgflow.workers w
     where w.worker_id = any(p_worker_ids)
       for update
  )
  update pgflow.workers w
     set last_heartbeat_at = now(),
         stopped_at = case when b.was_declared_dead then null else w.stopped_at end,
         stop_reason = case when b.was_declared_dead then null else w.stop_reason end
    from before b
   where w.worker_id = b.worker_id
  returning w.worker_id, coalesce(b.was_declared_dead, false)
$$;
