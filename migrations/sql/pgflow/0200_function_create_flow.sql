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
  v_defaults record;
begin
  select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
  if found then
    return v_flow;
  end if;
  -- Against an alias given this name at the same moment (pgflow._sync_flow_alias takes the same lock).
  perform pg_advisory_xact_lock(hashtext('pgflow:flow-name'), hashtext(create_flow.flow_slug));
  perform pgflow._assert_flow_slug(create_flow.flow_slug);
  perform pgflow._assert_option('max_attempts', create_flow.max_attempts, 0);
  perform pgflow._assert_option('base_delay', create_flow.base_delay, 0);
  perform pgflow._assert_option('timeout', create_flow.timeout, 1);

  v_defaults := pgflow._flow_defaults();
  begin
    insert into pgflow.flows (flow_slug, opt_max_attempts, opt_base_delay, opt_timeout)
    values (create_flow.flow_slug, coalesce(create_flow.max_attempts, v_defaults.max_attempts),
            coalesce(create_flow.base_delay, v_defaults.base_delay), coalesce(create_flow.timeout, v_defaults.timeout))
    on conflict on constraint flows_pkey do nothing
    returning * into v_flow;
  exception when unique_violation then
    -- flows_slug_lower_key: a flow whose slug differs only in case was created at the same moment.
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: a flow whose slug differs only in letter case was just created, and '
                       'queue names ignore case.', create_flow.flow_slug),
      hint = 'Choose a slug that differs from every existing flow slug by more than letter case.';
  end;
  if v_flow.flow_slug is null then
    -- Another transaction created it first (we waited for its commit).
    select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
    return v_flow;
  end if;

  perform pgmq.create(create_flow.flow_slug);
  -- Static queue statements for the new queue, unless another transaction is writing them (it does
  -- not wait, so that creating flows never waits on another transaction's lock for this).
  perform pgflow._write_queue_statements(false);
  return v_flow;
end;
$$;
