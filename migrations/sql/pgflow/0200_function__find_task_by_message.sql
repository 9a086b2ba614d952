-- The task behind one queue message, by a lateral call per message: without statistics, a planner
-- joining a list of messages to the tasks may scan them all per message.
create function pgflow._find_task_by_message(p_flow_slug text, p_msg_id bigint)
returns table (ctid tid, run_id uuid, step_slug text, status text)
language sql
stable
rows 1
set search_path to ''
as $$
  select t.ctid, t.run_id, t.step_slug, t.status
    from pgflow.step_tasks t
   where t.flow_slug = p_flow_slug and t.message_id = p_msg_id
$$;
