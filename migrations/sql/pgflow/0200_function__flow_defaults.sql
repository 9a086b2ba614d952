-- The defaults of a flow's options: those of pgflow.flows' columns, read from the catalog, so that
-- they are written in one place (create_flow and ensure_flow_compiled use them for a null option).
create function pgflow._flow_defaults(out max_attempts int, out base_delay int, out timeout int)
returns record
language sql
stable
set search_path to ''
as $$
  select max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_max_attempts')::int,
         max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_base_delay')::int,
         max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_timeout')::int
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attrelid = 'pgflow.flows'::regclass
     and a.attname in ('opt_max_attempts', 'opt_base_delay', 'opt_timeout')
$$;
