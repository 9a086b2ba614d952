-- Deletes up to p_limit archived queue messages (pgmq's a_<queue> tables, of the flows' queues)
-- archived before p_cutoff, oldest first, flow after flow; returns how many it deleted. Works on the
-- fallback and on the pgmq extension alike: both keep archived_at, with an index on it, in every
-- archive table. Call it until it returns 0: each call's locks are held by a few hundred rows only.
create function pgflow._prune_archives(p_cutoff timestamptz, p_limit int)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow text;
  v_deleted int;
  v_total int := 0;
begin
  for v_flow in
    select f.flow_slug from pgflow.flows f
     where exists (select 1 from pgmq.meta m where m.queue_name = f.flow_slug)
     order by f.flow_slug
  loop
    exit when v_total >= p_limit;
    execute format('delete from pgmq.%1$I a where a.msg_id in (select o.msg_id from pgmq.%1$I o
                     where o.archived_at < $1 order by o.archived_at limit $2)',
                   pgmq.format_table_name(v_flow, 'a'))
      using p_cutoff, p_limit - v_total;
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
  end loop;
  return v_total;
end;
$$;
