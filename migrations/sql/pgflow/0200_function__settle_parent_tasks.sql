-- Subflows: runs that just ended (completed, failed or cancelled) end the attempt of the parent task
-- waiting for them (step_tasks.child_run_id), through the ordinary completion path: a completed child
-- completes the task with the child run's output; a failed or cancelled one fails the attempt, which
-- is retried (with a new child run, as the handler runs again) while the parent step has attempts
-- left, and then when_exhausted applies. A child the task no longer waits for (an earlier attempt's,
-- or the parent run ended meanwhile) changes nothing. Called where runs end (_complete_finished_runs,
-- _fail_run, cancel_run, _start_child_run); the parents are locked first (_lock_runs), which the
-- callers that went through _lock_runs already hold.
create function pgflow._settle_parent_tasks(p_children pgflow.runs[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done record;
  v_failed record;
  v_parents uuid[];
begin
  select array_agg(distinct c.parent_run_id) into v_parents
    from unnest(p_children) c where c.parent_run_id is not null and c.status <> 'started';
  if v_parents is null then
    return;
  end if;
  perform pgflow._lock_runs(v_parents);

  select array_agg(t.run_id) as run_ids, array_agg(t.step_slug) as step_slugs,
         array_agg(t.task_index) as task_indexes, array_agg(coalesce(c.output, '{}'::jsonb)) as outputs,
         array_agg(t.attempts_count) as attempts
    into v_done
    from unnest(p_children) c
    join pgflow.step_tasks t
      on t.run_id = c.parent_run_id and t.step_slug = c.parent_step_slug and t.task_index = c.parent_task_index
   where c.status = 'completed' and t.status = 'started' and t.child_run_id = c.run_id;
  if v_done.run_ids is not null then
    perform pgflow._complete_tasks(v_done.run_ids, v_done.step_slugs, v_done.task_indexes, v_done.outputs,
                                   v_done.attempts);
  end if;

  select array_agg(t.run_id) as run_ids, array_agg(t.step_slug) as step_slugs,
         array_agg(t.task_index) as task_indexes, array_agg(t.attempts_count) as attempts,
         array_agg(case c.status
                     when 'failed' then format('Child run %s of flow %L failed: %s', c.run_id, c.flow_slug,
                       coalesce((select format('step %L: %s', s.step_slug, coalesce(s.error_message, 'no error message'))
                                   from pgflow.step_states s
                                  where s.run_id = c.run_id and s.status = 'failed'
                                  order by s.failed_at limit 1), 'no step failed'))
                     else format('Child run %s of flow %L was cancelled%s.', c.run_id, c.flow_slug,
                                 coalesce(': ' || c.cancel_reason, ''))
                   end) as errors
    into v_failed
    from unnest(p_children) c
    join pgflow.step_tasks t
      on t.run_id = c.parent_run_id and t.step_slug = c.parent_step_slug and t.task_index = c.parent_task_index
   where c.status in ('failed', 'cancelled') and t.status = 'started' and t.child_run_id = c.run_id;
  if v_failed.run_ids is not null then
    perform pgflow._fail_tasks(v_failed.run_ids, v_failed.step_slugs, v_failed.task_indexes, v_failed.errors,
                               p_attempts => v_failed.attempts);
  end if;
end;
$$;
