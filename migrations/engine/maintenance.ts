/** Snapshots, deleting a flow with its data, and workers. */

export const createGetRunWithStates = /* sql */ `
create function pgflow.get_run_with_states(run_id uuid)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select jsonb_build_object(
           'run', to_jsonb(r),
           'steps', coalesce((select jsonb_agg(to_jsonb(s) order by step.step_index)
                                from pgflow.step_states s
                                join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
                               where s.run_id = r.run_id), '[]'::jsonb))
    from pgflow.runs r
   where r.run_id = get_run_with_states.run_id
$$;
`;

export const createStartFlowWithStates = /* sql */ `
create function pgflow.start_flow_with_states(flow_slug text, input jsonb, run_id uuid default null)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run_id uuid;
begin
  select r.run_id into v_run_id
    from pgflow.start_flow(start_flow_with_states.flow_slug, start_flow_with_states.input,
                           start_flow_with_states.run_id) r;
  return pgflow.get_run_with_states(v_run_id);
end;
$$;
`;

export const createDeleteFlowAndData = /* sql */ `
create function pgflow.delete_flow_and_data(flow_slug text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  delete from pgflow.step_tasks t where t.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.step_states s where s.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.runs r where r.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.deps d where d.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.steps s where s.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.flows f where f.flow_slug = delete_flow_and_data.flow_slug;
  if exists (select 1 from pgmq.list_queues() q where q.queue_name = delete_flow_and_data.flow_slug) then
    perform pgmq.drop_queue(delete_flow_and_data.flow_slug);
  end if;
end;
$$;
`;

export const createMarkWorkerStopped = /* sql */ `
create function pgflow.mark_worker_stopped(worker_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  update pgflow.workers w set stopped_at = now() where w.worker_id = mark_worker_stopped.worker_id;
$$;
`;
