-- Subflows: the worker's report for a task of a subflow step (@Step({ subflow })), whose handler
-- returned the child run's input: starts a run of p_child_flow_slug with that input (as start_flow
-- does, with the parent's trace context and priority), records its parent (runs.parent_run_id, parent_step_slug,
-- parent_task_index), and keeps the task started, waiting for it (step_tasks.child_run_id) without a
-- worker: its message becomes invisible for ten years (the child run's end settles the task, see
-- _settle_parent_tasks; the stalled sweep passes it by). Emits task:waiting_for_child.
-- Changes nothing (started false) unless the task is started with attempt p_attempt in a started run
-- and step: a late report of a lost attempt starts no child. A repeated call for the attempt (the
-- worker retried a statement that had committed) returns the child it started. A start the engine
-- refuses (an unknown flow, an input the child flow cannot take: a PF error) fails the attempt
-- without a retry, since the same input would be refused again; the result carries the error.
create function pgflow._start_child_run(
  p_run_id uuid, p_step_slug text, p_task_index int, p_attempt int, p_child_flow_slug text, p_child_input jsonb
)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_task record;
  v_child pgflow.runs;
  v_error text;
begin
  perform pgflow._lock_runs(array[p_run_id]);
  select t.flow_slug, t.message_id, t.status, t.attempts_count, t.child_run_id,
         r.status as run_status, r.trace_context, r.priority, s.status as step_status
    into v_task
    from pgflow.step_tasks t
    join pgflow.runs r on r.run_id = t.run_id
    join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index
     for update of s, t;
  if not found or v_task.run_status <> 'started' or v_task.step_status <> 'started'
     or v_task.status <> 'started' or v_task.attempts_count <> p_attempt then
    return jsonb_build_object('started', false, 'child_run_id', null);
  end if;
  if v_task.child_run_id is not null then
    return jsonb_build_object('started', false, 'child_run_id', v_task.child_run_id);
  end if;

  begin
    select * into v_child
      from pgflow.start_flows(p_child_flow_slug, jsonb_build_array(coalesce(p_child_input, 'null'::jsonb)),
                              trace_contexts => case when v_task.trace_context is not null
                                                     then array[v_task.trace_context] end,
                              priority => v_task.priority);
  exception when others then
    -- Only the engine's own refusals (PF codes) fail the attempt; anything else is the caller's to retry.
    if sqlstate not like 'PF%' then
      raise;
    end if;
    v_error := format('[SUBFLOW_START] Step %L could not start its child run of flow %L: %s',
                      p_step_slug, p_child_flow_slug, sqlerrm);
  end;
  if v_error is not null then
    perform pgflow._fail_tasks(array[p_run_id], array[p_step_slug], array[p_task_index], array[v_error],
                               p_attempts => array[p_attempt], p_retryable => array[false]);
    return jsonb_build_object('started', false, 'child_run_id', null, 'error', v_error);
  end if;

  update pgflow.runs r
     set parent_run_id = p_run_id, parent_step_slug = p_step_slug, parent_task_index = p_task_index
   where r.run_id = v_child.run_id
  returning * into v_child;
  update pgflow.step_tasks t
     set child_run_id = v_child.run_id
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index;
  -- Ten years: the child's end makes the task's next move, not the message (see _settle_parent_tasks).
  perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, 315360000);
  perform pgflow._emit_events(array[p_run_id], array[jsonb_build_object(
    'event_type', 'task:waiting_for_child', 'flow_slug', v_task.flow_slug, 'step_slug', p_step_slug,
    'task_index', p_task_index, 'status', 'started', 'attempt', p_attempt, 'child_run_id', v_child.run_id,
    'child_flow_slug', v_child.flow_slug)]);
  -- A child that ended as it started (every step skipped or without tasks) settles the task now.
  if v_child.status <> 'started' then
    perform pgflow._settle_parent_tasks(array[v_child]);
  end if;
  -- The task holds no worker now: under a flow or step concurrency limit its slot is free.
  perform pgflow._wake_limited_flows(array[v_task.flow_slug]);
  return jsonb_build_object('started', true, 'child_run_id', v_child.run_id);
end;
$$;
