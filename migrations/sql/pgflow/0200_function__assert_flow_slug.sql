create function pgflow._assert_flow_slug(p_flow_slug text)
returns void
language plpgsql
stable
set search_path to ''
as $$
declare
  v_problem text := pgflow._slug_problem(p_flow_slug);
  v_taken text;
begin
  if v_problem is not null then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: %s.', p_flow_slug, v_problem),
      hint = 'Use a slug like "analyze_website": a letter or underscore, then letters, digits and underscores.';
  end if;
  -- A flow slug is also its queue name (pgmq limits those to 47 characters).
  if length(p_flow_slug) > 47 then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: it is longer than 47 characters, the queue name limit.', p_flow_slug),
      hint = 'A flow slug is also the name of its queue: choose one of at most 47 characters.';
  end if;
  -- Queue tables are named after the lower-cased slug, so two slugs differing only in case would share one.
  select f.flow_slug into v_taken from pgflow.flows f
   where lower(f.flow_slug) = lower(p_flow_slug) and f.flow_slug <> p_flow_slug;
  if found then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: flow %L already exists and queue names ignore case.', p_flow_slug, v_taken),
      hint = 'Choose a slug that differs from every existing flow slug by more than letter case.';
  end if;
  -- Starting by an alias would go to a flow with that slug instead of the newest version under it.
  select f.flow_slug into v_taken from pgflow.flows f where f.alias = p_flow_slug limit 1;
  if found then
    raise exception using errcode = 'PF016',
      message = format('Invalid flow slug %L: it is the alias of flow %L (the versions of a flow share an alias), so '
                       'a start by that name would no longer reach the newest version.', p_flow_slug, v_taken),
      hint = 'Choose a slug that is not an alias, e.g. "order_v3" for a new version under alias "order".';
  end if;
end;
$$;
