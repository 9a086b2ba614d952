-- pgflow's maintenance function, with its name, argument and effect: deletes the runs that ended
-- more than retention_interval ago (with their step states, tasks and queue messages), the workers
-- whose last heartbeat is older than that, the schedule ticks recorded before it (their schedules
-- have moved past them), and the archived queue messages of every flow archived before it. Runs are deleted in batches of 1,000, each its own set of short statements.
create function pgflow.prune_data_older_than(retention_interval interval)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_cutoff timestamptz := now() - prune_data_older_than.retention_interval;
  v_flow text;
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
  for v_flow in select f.flow_slug from pgflow.flows f order by f.flow_slug loop
    if exists (select 1 from pgmq.meta m where m.queue_name = v_flow) then
      execute format('delete from pgmq.%I where archived_at < $1', pgmq.format_table_name(v_flow, 'a')) using v_cutoff;
    end if;
  end loop;
end;
$$;
