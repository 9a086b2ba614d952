-- The signal steps among steps that just started (_start_ready_steps, which sends the messages of
-- those whose signal the run already received): a step still waiting for its signal gets its task
-- row without a queue message (send_signal sends it) and a step:waiting event; a step whose signal
-- was received before it started is marked delivered, with a step:signalled event.
create function pgflow._start_signal_steps(p_started pgflow.step_states[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_events jsonb[];
  v_run_ids uuid[];
begin
  with signal_steps as (
    select s.flow_slug, s.run_id, s.step_slug, step.signal_name, g.run_id is not null as received
      from unnest(p_started) s
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
      left join pgflow.signals g on g.run_id = s.run_id and g.signal_name = step.signal_name
     where step.signal_name is not null
  ),
  waiting as (
    insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index)
    select w.flow_slug, w.run_id, w.step_slug, 0 from signal_steps w where not w.received
    returning 1
  ),
  delivered as (
    update pgflow.signals g set delivered_at = now()
      from signal_steps d
     where d.received and g.run_id = d.run_id and g.signal_name = d.signal_name
    returning 1
  )
  select array_agg(x.run_id order by x.run_id, x.step_slug),
         array_agg(jsonb_build_object('event_type', case when x.received then 'step:signalled' else 'step:waiting' end,
                                      'flow_slug', x.flow_slug, 'step_slug', x.step_slug, 'status', 'started',
                                      'signal_name', x.signal_name) order by x.run_id, x.step_slug)
    into v_run_ids, v_events
    from signal_steps x;
  if v_run_ids is not null then
    perform pgflow._emit_events(v_run_ids, v_events);
  end if;
end;
$$;
