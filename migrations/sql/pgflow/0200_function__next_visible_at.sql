-- When the next message of a queue that a worker could start becomes visible: a delayed step's, a
-- retry's, a message handed back (null: none). Messages of tasks in flight are left out: their
-- visibility is their tasks' timeout, and waiting for it would delay the others.
-- The messages are looked at in the order they become visible, the first 32 at most: the earliest
-- among them that no started task holds is the answer. When all 32 are held by tasks in flight, no
-- other message becomes visible before the last of them, so its time is returned: the worker looks
-- again then (or sooner, at its longest poll interval), and this look costs the same with 50 tasks in
-- flight or 50,000 (it read every message of the queue, and probed each one's task, until migration
-- ClaimsPastTasksInFlight).
create function pgflow._next_visible_at(p_queue_name text)
returns timestamptz
language plpgsql
stable
set search_path to ''
as $$
declare
  v_next timestamptz;
begin
  execute format(
    'select coalesce(min(m.vt) filter (where not m.in_flight),
                     case when count(*) = 32 then max(m.vt) end)
       from (select q.vt,
                    -- A scalar subquery, probed by message for each of the 32: as an EXISTS, the planner
                    -- hashed every started task of the flow to test them.
                    coalesce((select true from pgflow.step_tasks t
                               where t.flow_slug = $1 and t.message_id = q.msg_id and t.status = ''started''
                               limit 1), false) as in_flight
               from pgmq.%I q
              order by q.vt
              limit 32) m',
    pgmq.format_table_name(p_queue_name, 'q'))
  into v_next using p_queue_name;
  return v_next;
end;
$$;
