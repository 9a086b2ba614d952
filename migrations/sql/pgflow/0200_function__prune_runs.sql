-- Deletes up to p_limit runs that ended (completed, failed or cancelled; or only those of
-- p_statuses) before p_cutoff, oldest first, with their step states, tasks and the queue messages
-- they still have; returns how many runs it deleted. Small batches keep each transaction's locks
-- short: call it until it returns 0. The runs are found by start time (an ended run started before
-- it ended), so an index on started_at serves it whatever the table's size.
create function pgflow._prune_runs(p_cutoff timestamptz, p_limit int)
returns int
language sql
volatile
set search_path to ''
as $$
  select pgflow._prune_runs(p_cutoff, p_limit, array['completed', 'failed', 'cancelled']);
$$;

create function pgflow._prune_runs(p_cutoff timestamptz, p_limit int, p_statuses text[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_runs uuid[];
  v_queue record;
begin
  select array_agg(r.run_id) into v_runs
    from (select r.run_id from pgflow.runs r
           where r.started_at < p_cutoff and r.status <> 'started' and r.status = any(p_statuses)
             and coalesce(r.completed_at, r.failed_at, r.cancelled_at) < p_cutoff
           order by r.started_at
           limit p_limit
             for update skip locked) r;
  if v_runs is null then
    return 0;
  end if;
  for v_queue in
    select t.flow_slug, array_agg(t.message_id) as ids
      from pgflow.step_tasks t
     where t.run_id = any(v_runs) and t.message_id is not null and t.status in ('queued', 'started')
     group by t.flow_slug
  loop
    if exists (select 1 from pgmq.meta m where m.queue_name = v_queue.flow_slug) then
      perform pgmq.delete(v_queue.flow_slug, v_queue.ids);
    end if;
  end loop;
  delete from pgflow.step_tasks t where t.run_id = any(v_runs);
  delete from pgflow.step_states s where s.run_id = any(v_runs);
  delete from pgflow.runs r where r.run_id = any(v_runs);
  return cardinality(v_runs);
end;
$$;
