-- The engine's limits (the one row of pgflow.limits). PL/pgSQL, not SQL: a SQL function that cannot
-- be inlined (it sets search_path) is planned again at each statement that calls it, and the engine
-- reads its limits in most statements; PL/pgSQL keeps the plan for the session.
create function pgflow._limits()
returns pgflow.limits
language plpgsql
stable
set search_path to ''
as $$
declare
  v_limits pgflow.limits;
begin
  select l.* into v_limits from pgflow.limits l where l.singleton;
  return v_limits;
end;
$$;
