-- The structural part of one step of a shape, normalized for comparison.
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
    'requiredInputPattern', pgflow._shape_pattern(pgflow._shape_pattern_value(p_step -> 'requiredInputPattern')),
    'forbiddenInputPattern', pgflow._shape_pattern(pgflow._shape_pattern_value(p_step -> 'forbiddenInputPattern')))
$$;
