-- A step's condition pattern as a shape holds it (pgflow 0.14): {"defined": false} for none,
-- {"defined": true, "value": <pattern>} for one. Explicit, so that a JSON null is never mistaken
-- for "no pattern".
create function pgflow._shape_pattern(p_pattern jsonb)
returns jsonb
language sql
immutable
set search_path to ''
as $$
  select case when p_pattern is null then '{"defined": false}'::jsonb
              else jsonb_build_object('defined', true, 'value', p_pattern) end
$$;
