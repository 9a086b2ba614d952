-- A single step's task inserted already started for p_worker_id (its first attempt), with its message
-- sent invisible for p_vt_offset seconds (the step's timeout + 2), as _start_ready_steps and then
-- _start_tasks leave them, except that the message was never read (its read_ct is 0): what the
-- claimed start and report (_start_claimed_run, _complete_plain_task) write for each step they start.
-- Returns the message's id.
create function pgflow._insert_started_task(
  p_flow_slug text, p_run_id uuid, p_step_slug text, p_vt_offset int, p_worker_id uuid
)
returns bigint
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_msg_id bigint;
begin
  select m.id into v_msg_id
    from pgflow._queue_send(p_flow_slug,
                            array[jsonb_build_object('flow_slug', p_flow_slug, 'run_id', p_run_id,
                                                     'step_slug', p_step_slug, 'task_index', 0)],
                            p_vt_offset) as m(id);
  insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id, status, started_at,
                                 attempts_count, last_worker_id)
  values (p_flow_slug, p_run_id, p_step_slug, 0, v_msg_id, 'started', now(), 1, p_worker_id);
  return v_msg_id;
end;
$$;
