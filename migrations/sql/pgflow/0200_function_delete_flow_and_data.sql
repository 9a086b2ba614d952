-- Drops a flow's queue and every row of the flow, definitions and runs (pgflow's argument name).
-- Each run still in progress gets a run:deleted event, so that whoever waits for it learns it is gone.
create function pgflow.delete_flow_and_data(p_flow_slug text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_events(array_agg(r.run_id),
                              array_agg(jsonb_build_object('event_type', 'run:deleted', 'flow_slug', r.flow_slug,
                                                           'status', 'deleted')))
     from pgflow.runs r
    where r.flow_slug = p_flow_slug and r.status = 'started'
   having count(*) > 0;
  delete from pgflow.step_tasks t where t.flow_slug = p_flow_slug;
  delete from pgflow.step_states s where s.flow_slug = p_flow_slug;
  delete from pgflow.runs r where r.flow_slug = p_flow_slug;
  delete from pgflow.deps d where d.flow_slug = p_flow_slug;
  delete from pgflow.steps s where s.flow_slug = p_flow_slug;
  delete from pgflow.flows f where f.flow_slug = p_flow_slug;
  if exists (select 1 from pgmq.list_queues() q where q.queue_name = p_flow_slug) then
    perform pgmq.drop_queue(p_flow_slug);
    perform pgflow._write_queue_statements(false);
  end if;
end;
$$;
