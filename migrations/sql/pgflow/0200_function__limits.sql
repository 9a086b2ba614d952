-- The engine's limits (the one row of pgflow.limits).
create function pgflow._limits()
returns pgflow.limits
language sql
stable
set search_path to ''
as $$
  select l.* from pgflow.limits l where l.singleton
$$;
