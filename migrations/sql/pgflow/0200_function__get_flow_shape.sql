-- Flow shapes: the structure of a flow as JSON, compared between the code and the database so that
-- a deployment never runs against a flow whose structure changed under its runs.
-- Shape (pgflow 0.14's format): {"steps": [{slug, stepType, dependencies (sorted), whenUnmet,
-- whenExhausted, requiredInputPattern, forbiddenInputPattern}, ...] in step order}, a pattern being
-- {"defined": false} or {"defined": true, "value": <pattern>}; with optional "options" at the flow
-- and step level, used at creation and kept up to date, but not part of the comparison.
create function pgflow._get_flow_shape(p_flow_slug text)
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
           'requiredInputPattern', pgflow._shape_pattern(s.required_input_pattern),
           'forbiddenInputPattern', pgflow._shape_pattern(s.forbidden_input_pattern)) order by s.step_index), '[]'::jsonb))
    from pgflow.steps s
   where s.flow_slug = p_flow_slug
$$;
