/**
 * Flow shapes: the structure of a flow as JSON, compared between the code and the database so that
 * a deployment never runs against a flow whose structure changed under its runs.
 * Shape: {"steps": [{slug, stepType, dependencies (sorted), whenUnmet, whenExhausted,
 * requiredInputPattern, forbiddenInputPattern}, ...] in step order}, with optional "options" at the
 * flow and step level, used at creation and kept up to date, but not part of the comparison.
 */

export const createGetFlowShape = /* sql */ `
create function pgflow._get_flow_shape(flow_slug text)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select jsonb_build_object('steps', coalesce(jsonb_agg(jsonb_build_object(
           'slug', s.step_slug,
           'stepType', s.step_type,
           'dependencies', coalesce((select jsonb_agg(d.dep_slug order by d.dep_slug) from pgflow.deps d
                                      where d.flow_slug = s.flow_slug and d.step_slug = s.step_slug), '[]'::jsonb),
           'whenUnmet', s.when_unmet,
           'whenExhausted', s.when_exhausted,
           'requiredInputPattern', s.required_input_pattern,
           'forbiddenInputPattern', s.forbidden_input_pattern) order by s.step_index), '[]'::jsonb))
    from pgflow.steps s
   where s.flow_slug = _get_flow_shape.flow_slug
$$;
`;

/** The structural part of one step of a shape, normalized for comparison. */
export const createNormalizeShapeStep = /* sql */ `
create function pgflow._normalize_shape_step(p_step jsonb)
returns jsonb
language sql
immutable
set search_path to ''
as $$
  select jsonb_build_object(
    'slug', p_step -> 'slug',
    'stepType', coalesce(p_step -> 'stepType', '"single"'),
    'dependencies', coalesce((select jsonb_agg(d order by d) from jsonb_array_elements_text(
                                coalesce(p_step -> 'dependencies', '[]'::jsonb)) d), '[]'::jsonb),
    'whenUnmet', coalesce(p_step -> 'whenUnmet', '"skip"'),
    'whenExhausted', coalesce(p_step -> 'whenExhausted', '"fail"'),
    'requiredInputPattern', coalesce(p_step -> 'requiredInputPattern', 'null'),
    'forbiddenInputPattern', coalesce(p_step -> 'forbiddenInputPattern', 'null'))
$$;
`;

export const createCompareFlowShapes = /* sql */ `
create function pgflow._compare_flow_shapes(p_local jsonb, p_db jsonb)
returns text[]
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_local jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_local -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_db jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_db -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_differences text[] := '{}';
  v_key text;
  v_local_step jsonb;
  v_db_step jsonb;
  i int;
begin
  if cardinality(v_local) <> cardinality(v_db) then
    v_differences := v_differences || format('The code has %s steps, the database %s.', cardinality(v_local), cardinality(v_db));
  end if;
  for i in 1 .. greatest(cardinality(v_local), cardinality(v_db)) loop
    v_local_step := v_local[i];
    v_db_step := v_db[i];
    if v_db_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the code but not in the database.', v_local_step -> 'slug', i);
    elsif v_local_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the database but not in the code.', v_db_step -> 'slug', i);
    elsif v_local_step -> 'slug' <> v_db_step -> 'slug' then
      v_differences := v_differences || format('Step at position %s is %s in the code but %s in the database.', i, v_local_step -> 'slug', v_db_step -> 'slug');
    else
      foreach v_key in array array['stepType', 'dependencies', 'whenUnmet', 'whenExhausted', 'requiredInputPattern', 'forbiddenInputPattern'] loop
        if v_local_step -> v_key <> v_db_step -> v_key then
          v_differences := v_differences || format('Step %s: %s differs (code: %s, database: %s).',
                                                   v_local_step -> 'slug', v_key, v_local_step -> v_key, v_db_step -> v_key);
        end if;
      end loop;
    end if;
  end loop;
  return v_differences;
end;
$$;
`;

export const createCreateFlowFromShape = /* sql */ `
create function pgflow._create_flow_from_shape(flow_slug text, shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
begin
  if jsonb_typeof(shape) is distinct from 'object' or jsonb_typeof(shape -> 'steps') is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('Invalid shape for flow %L: %s.', _create_flow_from_shape.flow_slug, coalesce(shape::text, 'null')),
      hint = 'A shape is {"steps": [{"slug": ..., "stepType": ..., "dependencies": [...], ...}, ...]}.';
  end if;
  perform pgflow.create_flow(_create_flow_from_shape.flow_slug,
    (shape #>> '{options,maxAttempts}')::int, (shape #>> '{options,baseDelay}')::int,
    (shape #>> '{options,timeout}')::int);
  for v_step in select e from jsonb_array_elements(shape -> 'steps') with ordinality x(e, n) order by n loop
    perform pgflow.add_step(
      flow_slug => _create_flow_from_shape.flow_slug,
      step_slug => v_step ->> 'slug',
      deps_slugs => array(select jsonb_array_elements_text(coalesce(v_step -> 'dependencies', '[]'::jsonb))),
      max_attempts => (v_step #>> '{options,maxAttempts}')::int,
      base_delay => (v_step #>> '{options,baseDelay}')::int,
      timeout => (v_step #>> '{options,timeout}')::int,
      start_delay => (v_step #>> '{options,startDelay}')::int,
      step_type => coalesce(v_step ->> 'stepType', 'single'),
      required_input_pattern => nullif(v_step -> 'requiredInputPattern', 'null'::jsonb),
      forbidden_input_pattern => nullif(v_step -> 'forbiddenInputPattern', 'null'::jsonb),
      when_unmet => coalesce(v_step ->> 'whenUnmet', 'skip'),
      when_exhausted => coalesce(v_step ->> 'whenExhausted', 'fail'));
  end loop;
end;
$$;
`;

/** Brings a verified flow's options (not part of its shape) in line with the code's. */
export const createSyncFlowOptions = /* sql */ `
create function pgflow._sync_flow_options(p_flow_slug text, p_shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
begin
  perform pgflow._assert_option('max_attempts', (p_shape #>> '{options,maxAttempts}')::int, 0);
  perform pgflow._assert_option('base_delay', (p_shape #>> '{options,baseDelay}')::int, 0);
  perform pgflow._assert_option('timeout', (p_shape #>> '{options,timeout}')::int, 1);
  update pgflow.flows f
     set opt_max_attempts = coalesce((p_shape #>> '{options,maxAttempts}')::int, 3),
         opt_base_delay = coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
         opt_timeout = coalesce((p_shape #>> '{options,timeout}')::int, 60)
   where f.flow_slug = p_flow_slug
     and (f.opt_max_attempts, f.opt_base_delay, f.opt_timeout) is distinct from
         (coalesce((p_shape #>> '{options,maxAttempts}')::int, 3), coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
          coalesce((p_shape #>> '{options,timeout}')::int, 60));
  for v_step in select e from jsonb_array_elements(p_shape -> 'steps') e loop
    perform pgflow._assert_option('max_attempts', (v_step #>> '{options,maxAttempts}')::int, 0);
    perform pgflow._assert_option('base_delay', (v_step #>> '{options,baseDelay}')::int, 0);
    perform pgflow._assert_option('timeout', (v_step #>> '{options,timeout}')::int, 1);
    perform pgflow._assert_option('start_delay', (v_step #>> '{options,startDelay}')::int, 0);
    update pgflow.steps s
       set opt_max_attempts = (v_step #>> '{options,maxAttempts}')::int,
           opt_base_delay = (v_step #>> '{options,baseDelay}')::int,
           opt_timeout = (v_step #>> '{options,timeout}')::int,
           opt_start_delay = (v_step #>> '{options,startDelay}')::int
     where s.flow_slug = p_flow_slug and s.step_slug = v_step ->> 'slug'
       and (s.opt_max_attempts, s.opt_base_delay, s.opt_timeout, s.opt_start_delay) is distinct from
           ((v_step #>> '{options,maxAttempts}')::int, (v_step #>> '{options,baseDelay}')::int,
            (v_step #>> '{options,timeout}')::int, (v_step #>> '{options,startDelay}')::int);
  end loop;
end;
$$;
`;

export const createEnsureFlowCompiled = /* sql */ `
create function pgflow.ensure_flow_compiled(flow_slug text, shape jsonb, allow_data_loss boolean default false)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_differences text[];
begin
  -- Many workers boot at once: one compiles, the others wait here and then find it compiled.
  perform pg_advisory_xact_lock(hashtext('pgflow:compile'), hashtext(ensure_flow_compiled.flow_slug));

  if not exists (select 1 from pgflow.flows f where f.flow_slug = ensure_flow_compiled.flow_slug) then
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'compiled', 'differences', '[]'::jsonb);
  end if;

  v_differences := pgflow._compare_flow_shapes(ensure_flow_compiled.shape,
                                               pgflow._get_flow_shape(ensure_flow_compiled.flow_slug));
  if cardinality(v_differences) = 0 then
    perform pgflow._sync_flow_options(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'verified', 'differences', '[]'::jsonb);
  end if;
  if ensure_flow_compiled.allow_data_loss then
    perform pgflow.delete_flow_and_data(ensure_flow_compiled.flow_slug);
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'recompiled', 'differences', to_jsonb(v_differences));
  end if;
  return jsonb_build_object('status', 'mismatch', 'differences', to_jsonb(v_differences));
end;
$$;
`;
