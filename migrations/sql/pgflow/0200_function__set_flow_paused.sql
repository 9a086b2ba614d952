-- pause_flow and resume_flow: sets or clears the flow's paused_at and emits flow:paused or
-- flow:resumed on the flow's channel ('pgflow:flow:<flow_slug>'). Returns {flow_slug, paused,
-- paused_at, changed}; changed is false when the flow already was in that state (nothing is emitted).
create function pgflow._set_flow_paused(p_flow_slug text, p_paused boolean)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow pgflow.flows;
  v_changed boolean;
begin
  select * into v_flow from pgflow.flows f where f.flow_slug = p_flow_slug for update;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist, so it cannot be %s.', p_flow_slug,
                       case when p_paused then 'paused' else 'resumed' end),
      hint = format('Check the slug; the flows are: %s.',
                    coalesce((select string_agg(f.flow_slug, ', ' order by f.flow_slug) from pgflow.flows f),
                             'none'));
  end if;
  v_changed := (v_flow.paused_at is not null) <> p_paused;
  if v_changed then
    update pgflow.flows f
       set paused_at = case when p_paused then now() end
     where f.flow_slug = p_flow_slug
    returning * into v_flow;
    if pgflow._notifications_allowed() then
      perform pg_notify('pgflow:flow:' || p_flow_slug, jsonb_build_object(
        'event_type', case when p_paused then 'flow:paused' else 'flow:resumed' end,
        'flow_slug', p_flow_slug, 'status', case when p_paused then 'paused' else 'running' end,
        'at', clock_timestamp())::text);
      if not p_paused then
        -- The flow's workers read its queue at once instead of at their next poll.
        perform pg_notify('pgflow:work', p_flow_slug);
      end if;
    end if;
  end if;
  return jsonb_build_object('flow_slug', v_flow.flow_slug, 'paused', v_flow.paused_at is not null,
                            'paused_at', v_flow.paused_at, 'changed', v_changed);
end;
$$;
