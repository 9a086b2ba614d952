-- pgflow's maintenance function, with its name, argument and effect: deletes the runs that ended
-- more than retention_interval ago (with their step states, tasks and queue messages), the workers
-- whose last heartbeat is older than that, the schedule ticks recorded before it (their schedules
-- have moved past them), and the archived queue messages of every flow archived before it. Runs and
-- archived messages are deleted in batches of 1,000, all in the caller's one transaction; for short
-- transactions on a busy database, see pgflow.apply_retention.
create function pgflow.prune_data_older_than(retention_interval interval)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_cutoff timestamptz := now() - prune_data_older_than.retention_interval;
begin
  if prune_data_older_than.retention_interval is null or prune_data_older_than.retention_interval < interval '0' then
    raise exception using errcode = 'PF007',
      message = format('Invalid retention interval %s: it must be zero or more.',
                       coalesce(prune_data_older_than.retention_interval::text, 'null')),
      hint = 'Pass how much recent data to keep, e.g. interval ''28 days''.';
  end if;
  loop
    exit when pgflow._prune_runs(v_cutoff, 1000) = 0;
  end loop;
  delete from pgflow.workers w where w.last_heartbeat_at < v_cutoff;
  delete from pgflow.schedule_ticks t where t.created_at < v_cutoff;
  loop
    exit when pgflow._prune_archives(v_cutoff, 1000) = 0;
  end loop;
end;
$$;
