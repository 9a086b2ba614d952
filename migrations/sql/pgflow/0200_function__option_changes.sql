-- The options whose value changes, in words: '<prefix><name> <before> -> <after>' ('default' for null).
create function pgflow._option_changes(p_prefix text, p_names text[], p_before int[], p_after int[])
returns text[]
language sql
immutable
set search_path to ''
as $$
  select coalesce(array_agg(format('%s%s %s -> %s', p_prefix, c.name, coalesce(c.before::text, 'default'),
                                   coalesce(c.after::text, 'default')) order by c.n), '{}')
    from unnest(p_names, p_before, p_after) with ordinality as c(name, before, after, n)
   where c.before is distinct from c.after
$$;
