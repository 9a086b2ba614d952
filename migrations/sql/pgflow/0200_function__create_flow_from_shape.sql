create function pgflow._create_flow_from_shape(p_flow_slug text, p_shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
  v_options record;
begin
  if jsonb_typeof(p_shape) is distinct from 'object' or jsonb_typeof(p_shape -> 'steps') is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('Invalid shape for flow %L: %s.', p_flow_slug, coalesce(p_shape::text, 'null')),
      hint = 'A shape is {"steps": [{"slug": ..., "stepType": ..., "dependencies": [...], ...}, ...]}.';
  end if;
  v_options := pgflow._shape_options(p_shape);
  perform pgflow.create_flow(p_flow_slug,
                             v_options.max_attempts, v_options.base_delay, v_options.timeout);
  -- An addition to pgflow's shapes: options.alias, the name the flow's versions share.
  perform pgflow._sync_flow_alias(p_flow_slug, p_shape);
  -- Another: options.rateLimit, the flow's rate limit.
  perform pgflow._sync_flow_rate_limit(p_flow_slug, p_shape);
  for v_step in select e from jsonb_array_elements(p_shape -> 'steps') with ordinality x(e, n) order by n loop
    v_options := pgflow._shape_options(v_step);
    perform pgflow.add_step(
      flow_slug => p_flow_slug,
      step_slug => v_step ->> 'slug',
      deps_slugs => array(select jsonb_array_elements_text(coalesce(v_step -> 'dependencies', '[]'::jsonb))),
      max_attempts => v_options.max_attempts,
      base_delay => v_options.base_delay,
      timeout => v_options.timeout,
      start_delay => v_options.start_delay,
      step_type => coalesce(v_step ->> 'stepType', 'single'),
      required_input_pattern => pgflow._shape_pattern_value(v_step -> 'requiredInputPattern'),
      forbidden_input_pattern => pgflow._shape_pattern_value(v_step -> 'forbiddenInputPattern'),
      when_unmet => coalesce(v_step ->> 'whenUnmet', 'skip'),
      when_exhausted => coalesce(v_step ->> 'whenExhausted', 'fail'));
  end loop;
  -- An addition to pgflow's shapes: signal steps (options.signal, options.signalTimeout).
  perform pgflow._sync_step_signals(p_flow_slug, p_shape);
  -- Another: concurrency limits (options.concurrency, options.concurrencyPerKey, steps' options.concurrency).
  perform pgflow._sync_flow_concurrency(p_flow_slug, p_shape);
end;
$$;
