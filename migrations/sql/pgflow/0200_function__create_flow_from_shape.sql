create function pgflow._create_flow_from_shape(flow_slug text, shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
  v_options record;
begin
  if jsonb_typeof(shape) is distinct from 'object' or jsonb_typeof(shape -> 'steps') is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('Invalid shape for flow %L: %s.', _create_flow_from_shape.flow_slug, coalesce(shape::text, 'null')),
      hint = 'A shape is {"steps": [{"slug": ..., "stepType": ..., "dependencies": [...], ...}, ...]}.';
  end if;
  v_options := pgflow._shape_options(shape);
  perform pgflow.create_flow(_create_flow_from_shape.flow_slug,
                             v_options.max_attempts, v_options.base_delay, v_options.timeout);
  for v_step in select e from jsonb_array_elements(shape -> 'steps') with ordinality x(e, n) order by n loop
    v_options := pgflow._shape_options(v_step);
    perform pgflow.add_step(
      flow_slug => _create_flow_from_shape.flow_slug,
      step_slug => v_step ->> 'slug',
      deps_slugs => array(select jsonb_array_elements_text(coalesce(v_step -> 'dependencies', '[]'::jsonb))),
      max_attempts => v_options.max_attempts,
      base_delay => v_options.base_delay,
      timeout => v_options.timeout,
      start_delay => v_options.start_delay,
      step_type => coalesce(v_step ->> 'stepType', 'single'),
      required_input_pattern => nullif(v_step -> 'requiredInputPattern', 'null'::jsonb),
      forbidden_input_pattern => nullif(v_step -> 'forbiddenInputPattern', 'null'::jsonb),
      when_unmet => coalesce(v_step ->> 'whenUnmet', 'skip'),
      when_exhausted => coalesce(v_step ->> 'whenExhausted', 'fail'));
  end loop;
end;
$$;
