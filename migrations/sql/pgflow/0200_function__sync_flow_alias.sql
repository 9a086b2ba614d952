-- Sets a flow's alias (the name its versions share) to its shape's "options"."alias" when the shape
-- has that key (null clears it); a shape without it (pgflow's DSL has no aliases) leaves the alias
-- alone. An alias follows the flow slug rules and must not be the slug of any flow, its own included:
-- a start by that name would go to that flow, never to the newest version (PF016, nothing changed).
-- Returns what it changed, in words (e.g. 'alias null -> ''order'''), for the log.
create function pgflow._sync_flow_alias(p_flow_slug text, p_shape jsonb)
returns text[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_alias text := p_shape #>> '{options,alias}';
  v_before text;
  v_problem text;
begin
  if jsonb_typeof(p_shape -> 'options') is distinct from 'object' or not ((p_shape -> 'options') ? 'alias') then
    return '{}';
  end if;
  if v_alias is not null then
    if jsonb_typeof(p_shape #> '{options,alias}') <> 'string' then
      raise exception using errcode = 'PF007',
        message = format('Invalid alias of flow %L: %s is not a string.', p_flow_slug, p_shape #> '{options,alias}'),
        hint = 'An alias is a name like "order": a letter or underscore, then letters, digits and underscores.';
    end if;
    v_problem := coalesce(pgflow._slug_problem(v_alias),
                          case when length(v_alias) > 47 then 'it is longer than 47 characters, the flow slug limit' end);
    if v_problem is not null then
      raise exception using errcode = 'PF001',
        message = format('Invalid alias %L of flow %L: %s.', v_alias, p_flow_slug, v_problem),
        hint = 'An alias follows the flow slug rules: a letter or underscore, then letters, digits and underscores.';
    end if;
    -- Against a flow created with this slug at the same moment (create_flow takes the same lock).
    perform pg_advisory_xact_lock(hashtext('pgflow:flow-name'), hashtext(v_alias));
    if exists (select 1 from pgflow.flows f where f.flow_slug = v_alias) then
      raise exception using errcode = 'PF016',
        message = format('Invalid alias %L of flow %L: %s, so starting %L would start that flow, never the newest '
                         'version under the alias. Choose an alias that no flow has as its slug.', v_alias, p_flow_slug,
                         case when v_alias = p_flow_slug then 'it is the flow''s own slug'
                              else format('flow %L has this slug', v_alias) end, v_alias),
        hint = 'Give the versions an alias that is not a slug, e.g. slugs "order_v1", "order_v2" under alias "order".';
    end if;
  end if;
  select f.alias into v_before from pgflow.flows f where f.flow_slug = p_flow_slug;
  if v_before is not distinct from v_alias then
    return '{}';
  end if;
  update pgflow.flows f set alias = v_alias where f.flow_slug = p_flow_slug;
  return array[format('alias %s -> %s', coalesce(quote_literal(v_before), 'null'), coalesce(quote_literal(v_alias), 'null'))];
end;
$$;
