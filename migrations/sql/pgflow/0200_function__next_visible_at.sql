-- When the next message of a queue that a worker could start becomes visible: a delayed step's, a
-- retry's, a message handed back (null: none). Messages of tasks in flight are left out: their
-- visibility is their tasks' timeout, and waiting for it would delay the others.
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
    'select min(q.vt) from pgmq.%I q
      where not exists (select 1 from pgflow.step_tasks t
                         where t.flow_slug = $1 and t.message_id = q.msg_id and t.status = ''started'')',
    pgmq.format_table_name(p_queue_name, 'q'))
  into v_next using p_queue_name;
  return v_next;
end;
$$;
