-- One task by its key. A lateral call to this function is the way to look tasks up from a list of
-- keys: a map step has thousands of tasks under one (run_id, step_slug), and when the tables have
-- no statistics yet the planner may match only that prefix in a join and scan them all per key.
create function pgflow._find_task(p_run_id uuid, p_step_slug text, p_task_index int)
returns table (ctid tid, run_id uuid, step_slug text, task_index int, flow_slug text, message_id bigint, status text,
               attempts_count int)
language sql
stable
-- A key finds at most one task: without this the planner assumes 1,000 rows per call.
rows 1
set search_path to ''
as $$
  select t.ctid, t.run_id, t.step_slug, t.task_index, t.flow_slug, t.message_id, t.status, t.attempts_count
    from pgflow.step_tasks t
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index
$$;
