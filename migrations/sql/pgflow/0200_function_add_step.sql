create function pgflow.add_step(
  flow_slug text,
  step_slug text,
  deps_slugs text[] default '{}',
  max_attempts int default null,
  base_delay int default null,
  timeout int default null,
  start_delay int default null,
  step_type text default 'single',
  required_input_pattern jsonb default null,
  forbidden_input_pattern jsonb default null,
  when_unmet text default 'skip',
  when_exhausted text default 'fail'
)
returns pgflow.steps
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step pgflow.steps;
  v_deps text[];
  v_unknown text[];
  v_problem text := pgflow._slug_problem(add_step.step_slug);
begin
  -- Locking the flow serializes step_index assignment between concurrent add_step calls.
  perform 1 from pgflow.flows f where f.flow_slug = add_step.flow_slug for update;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist.', add_step.flow_slug),
      hint = 'Create it first with pgflow.create_flow(flow_slug).';
  end if;
  select * into v_step from pgflow.steps s
   where s.flow_slug = add_step.flow_slug and s.step_slug = add_step.step_slug;
  if found then
    return v_step;
  end if;

  if v_problem is not null then
    raise exception using errcode = 'PF001',
      message = format('Invalid step slug %L in flow %L: %s.', add_step.step_slug, add_step.flow_slug, v_problem),
      hint = 'Use a slug like "fetch_page": a letter or underscore, then letters, digits and underscores.';
  end if;
  if add_step.step_type is null or add_step.step_type not in ('single', 'map') then
    raise exception using errcode = 'PF007',
      message = format('Invalid step_type %L for step %L: it must be ''single'' or ''map''.',
                       add_step.step_type, add_step.step_slug),
      hint = 'Pass step_type => ''single'' (the default) or ''map''.';
  end if;
  if add_step.when_unmet is null or add_step.when_unmet not in ('fail', 'skip', 'skip-cascade') then
    raise exception using errcode = 'PF007',
      message = format('Invalid when_unmet %L for step %L.', add_step.when_unmet, add_step.step_slug),
      hint = 'Use ''skip'' (the default), ''skip-cascade'' or ''fail''.';
  end if;
  if add_step.when_exhausted is null or add_step.when_exhausted not in ('fail', 'skip', 'skip-cascade') then
    raise exception using errcode = 'PF007',
      message = format('Invalid when_exhausted %L for step %L.', add_step.when_exhausted, add_step.step_slug),
      hint = 'Use ''fail'' (the default), ''skip'' or ''skip-cascade''.';
  end if;
  if add_step.required_input_pattern is not null and jsonb_typeof(add_step.required_input_pattern) <> 'object' then
    raise exception using errcode = 'PF007',
      message = format('Invalid required_input_pattern for step %L: %s is not a JSON object.',
                       add_step.step_slug, add_step.required_input_pattern),
      hint = 'A condition pattern is a JSON object that the step''s input must contain, e.g. {"kind": "page"}.';
  end if;
  if add_step.forbidden_input_pattern is not null and jsonb_typeof(add_step.forbidden_input_pattern) <> 'object' then
    raise exception using errcode = 'PF007',
      message = format('Invalid forbidden_input_pattern for step %L: %s is not a JSON object.',
                       add_step.step_slug, add_step.forbidden_input_pattern),
      hint = 'A condition pattern is a JSON object that the step''s input must not contain, e.g. {"skip": true}.';
  end if;
  perform pgflow._assert_option('max_attempts', add_step.max_attempts, 0);
  perform pgflow._assert_option('base_delay', add_step.base_delay, 0);
  perform pgflow._assert_option('timeout', add_step.timeout, 1);
  perform pgflow._assert_option('start_delay', add_step.start_delay, 0);

  select coalesce(array_agg(distinct d), '{}') into v_deps from unnest(add_step.deps_slugs) d;
  if add_step.step_slug = any(v_deps) then
    raise exception using errcode = 'PF004',
      message = format('Step %L of flow %L depends on itself.', add_step.step_slug, add_step.flow_slug),
      hint = 'Remove the step from its own dependencies.';
  end if;
  select array_agg(d order by d) into v_unknown from unnest(v_deps) d
   where not exists (select 1 from pgflow.steps s where s.flow_slug = add_step.flow_slug and s.step_slug = d);
  if v_unknown is not null then
    raise exception using errcode = 'PF003',
      message = format('Step %L of flow %L depends on unknown step(s): %s.',
                       add_step.step_slug, add_step.flow_slug, array_to_string(v_unknown, ', ')),
      hint = 'Add every dependency before the steps that depend on it, and check the slugs.';
  end if;
  if add_step.step_type = 'map' and cardinality(v_deps) > 1 then
    raise exception using errcode = 'PF005',
      message = format('Map step %L of flow %L has %s dependencies (%s): a map step maps over one array.',
                       add_step.step_slug, add_step.flow_slug, cardinality(v_deps), array_to_string(v_deps, ', ')),
      hint = 'Give the map step a single dependency that outputs an array, or none to map over the flow input.';
  end if;

  insert into pgflow.steps (flow_slug, step_slug, step_type, step_index, deps_count, opt_max_attempts,
                            opt_base_delay, opt_timeout, opt_start_delay, required_input_pattern,
                            forbidden_input_pattern, when_unmet, when_exhausted)
  select add_step.flow_slug, add_step.step_slug, add_step.step_type,
         coalesce((select max(s.step_index) + 1 from pgflow.steps s where s.flow_slug = add_step.flow_slug), 0),
         cardinality(v_deps), add_step.max_attempts, add_step.base_delay, add_step.timeout, add_step.start_delay,
         add_step.required_input_pattern, add_step.forbidden_input_pattern, add_step.when_unmet,
         add_step.when_exhausted
  returning * into v_step;

  insert into pgflow.deps (flow_slug, dep_slug, step_slug)
  select add_step.flow_slug, d, add_step.step_slug from unnest(v_deps) d;
  return v_step;
end;
$$;
