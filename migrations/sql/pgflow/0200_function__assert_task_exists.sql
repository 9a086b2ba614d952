-- Raises PF009 / PF010 unless the run and the task exist.
create function pgflow._assert_task_exists(p_run_id uuid, p_step_slug text, p_task_index int)
returns void
language plpgsql
stable
set search_path to ''
as $$
begin
  perform 1 from pgflow.runs r where r.run_id = p_run_id;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist.', p_run_id),
      hint = 'Check the run id: the run may have been deleted with its flow (delete_flow_and_data).';
  end if;
  perform 1 from pgflow.step_tasks t
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index;
  if not found then
    raise exception using errcode = 'PF010',
      message = format('Run %s has no task %s of step %L.', p_run_id, p_task_index, p_step_slug),
      hint = 'Only a task returned by start_tasks can be completed or failed.';
  end if;
end;
$$;
