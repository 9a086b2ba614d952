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
