-- The pattern a shape's pattern field holds, or null for none: pgflow 0.14's wrapper
-- ({"defined": false} / {"defined": true, "value": ...}), or, as earlier versions of this library
-- sent, the pattern itself (null for none).
create function pgflow._shape_pattern_value(p_field jsonb)
returns jsonb
language sql
immutable
set search_path to ''
as $$
  select case
           when p_field is null or p_field = 'null'::jsonb then null
           when jsonb_typeof(p_field) = 'object' and p_field - 'value' = '{"defined": true}'::jsonb
                and p_field ? 'value' then nullif(p_field -> 'value', 'null'::jsonb)
           when p_field = '{"defined": false}'::jsonb then null
           else p_field
         end
$$;
