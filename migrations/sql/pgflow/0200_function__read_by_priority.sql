-- Run priorities: what pgmq.read(p_queue_name, p_vt, p_qty) does (takes up to p_qty visible messages,
-- skipping rows other transactions have locked; each becomes invisible for p_vt seconds and its read_ct
-- goes up by one), but the messages of the runs with the highest priority first, then the lowest msg_id.
-- Returns the ids of the messages read. It reads the queue's table directly (named by
-- pgmq.format_table_name, on the fallback and the extension alike) and sorts every visible message, so
-- _claim_tasks calls it only while a run of the flow with a priority other than 0 is started. The
-- visible messages are those whose vt has passed at the call's time, passed as a value: the planner
-- can then bound the scan of the vt index, instead of reading the messages of every task in flight too.
create function pgflow._read_by_priority(p_queue_name text, p_vt int, p_qty int)
returns bigint[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_msg_ids bigint[];
begin
  execute format(
    'with prioritized as materialized (
       select r.run_id::text as run_id, r.priority from pgflow.runs r
        where r.flow_slug = $3 and r.priority <> 0 and r.status = ''started''),
     claimed as (
     update pgmq.%1$I q
        set vt = clock_timestamp() + $1, read_ct = q.read_ct + 1
      where q.msg_id = any(array(
              select m.msg_id
                from pgmq.%1$I m
                left join prioritized p on p.run_id = m.message ->> ''run_id''
               where m.vt <= $4
               order by coalesce(p.priority, 0) desc, m.msg_id
               limit $2
                 for update of m skip locked))
     returning q.msg_id)
     select array_agg(c.msg_id) from claimed c',
    pgmq.format_table_name(p_queue_name, 'q'))
  into v_msg_ids
  using make_interval(secs => p_vt), p_qty, p_queue_name, clock_timestamp();
  return v_msg_ids;
end;
$$;
