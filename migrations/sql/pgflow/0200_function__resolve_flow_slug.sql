-- The flow a start names: the flow with this slug, or else the newest flow (by created_at; of flows
-- created in one transaction, the greatest slug) registered under this alias (@Flow({ alias })), so
-- that callers starting by alias move to a new version when it is compiled while the older versions
-- keep executing their runs. PF002 when no flow has this slug or alias.
create function pgflow._resolve_flow_slug(p_slug_or_alias text)
returns text
language plpgsql
stable
set search_path to ''
as $$
declare
  v_flow_slug text;
begin
  select f.flow_slug into v_flow_slug from pgflow.flows f where f.flow_slug = p_slug_or_alias;
  if found then
    return v_flow_slug;
  end if;
  select f.flow_slug into v_flow_slug from pgflow.flows f
   where f.alias = p_slug_or_alias
   order by f.created_at desc, f.flow_slug desc
   limit 1;
  if found then
    return v_flow_slug;
  end if;
  raise exception using errcode = 'PF002',
    message = format('Flow %L does not exist: no flow has this slug or this alias.', p_slug_or_alias),
    hint = 'Check the name, or compile the flow first (pgflow.create_flow / ensure_flow_compiled).';
end;
$$;
