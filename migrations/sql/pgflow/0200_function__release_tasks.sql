-- Hands tasks back at shutdown: those still started by this worker go back to queued, without
-- counting the interrupted attempt, and their messages become visible at once.
create function pgflow._release_tasks(p_flow_slug text, p_msg_ids bigint[], p_worker_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_released bigint[];
begin
  -- By ctid: "is true" keeps the planner from the partial index of started tasks, which it chose
  -- with statistics that show few of them, to read every started task (see _complete_tasks).
  with released as (
    update pgflow.step_tasks t
       set status = 'queued', attempts_count = greatest(t.attempts_count - 1, 0)
     where t.ctid = any(array(select task.ctid from unnest(p_msg_ids) as m(msg_id)
                               cross join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task))
       and (t.status = 'started') is true and t.last_worker_id = p_worker_id and t.child_run_id is null
    returning t.message_id
  )
  select array_agg(r.message_id) into v_released from released r;
  if v_released is null then
    return 0;
  end if;
  perform from pgflow.set_vt_batch(p_flow_slug, v_released, array_fill(0, array[cardinality(v_released)]));
  return cardinality(v_released);
end;
$$;
