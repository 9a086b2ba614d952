-- start_flows' check of its concurrency_keys (one per input, null elements for none, each 1 to 255
-- characters): PF081 names the bad one, and nothing is started.
create function pgflow._check_concurrency_keys(p_keys text[], p_count int)
returns void
language plpgsql
stable
set search_path to ''
as $$
declare
  v_bad record;
begin
  if p_keys is null then
    return;
  end if;
  if cardinality(p_keys) is distinct from p_count then
    raise exception using errcode = 'PF081',
      message = format('start_flows got %s inputs but %s concurrency keys.', p_count, coalesce(cardinality(p_keys), 0)),
      hint = 'Pass one concurrency key per input (a null element for none), or concurrency_keys => null.';
  end if;
  select k.n, k.key into v_bad
    from unnest(p_keys) with ordinality as k(key, n)
   where length(k.key) not between 1 and 255
   order by k.n limit 1;
  if found then
    raise exception using errcode = 'PF081',
      message = format('Concurrency key %L has %s characters; a key has 1 to 255.',
                       left(v_bad.key, 40) || case when length(v_bad.key) > 40 then '...' else '' end,
                       length(v_bad.key))
                || case when p_count > 1 then format(' (input %s of %s)', v_bad.n, p_count) else '' end,
      hint = 'Use a shorter key, e.g. a tenant id, or null for a run that no per-key limit applies to.';
  end if;
end;
$$;
