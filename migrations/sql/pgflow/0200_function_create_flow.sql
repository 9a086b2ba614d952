create function pgflow.create_flow(
  flow_slug text,
  max_attempts int default null,
  base_delay int default null,
  timeout int default null
)
returns pgflow.flows
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow pgflow.flows;
begin
  select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
  if found then
    return v_flow;
  end if;
  perform pgflow._assert_flow_slug(create_flow.flow_slug);
  perform pgflow._assert_option('max_attempts', create_flow.max_attempts, 0);
  perform pgflow._assert_option('base_delay', create_flow.base_delay, 0);
  perform pgflow._assert_option('timeout', create_flow.timeout, 1);

  insert into pgflow.flows (flow_slug, opt_max_attempts, opt_base_delay, opt_timeout)
  values (create_flow.flow_slug, coalesce(create_flow.max_attempts, 3), coalesce(create_flow.base_delay, 5),
          coalesce(create_flow.timeout, 60))
  on conflict do nothing
  returning * into v_flow;
  if v_flow.flow_slug is null then
    -- Another transaction created it first (we waited for its commit).
    select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
    return v_flow;
  end if;

  perform pgmq.create(create_flow.flow_slug);
  return v_flow;
end;
$$;
