/**
 * A database's schemas described as sorted text lines, one per object property that a migration
 * can change (relations, columns in order, constraints, indexes, function definitions, types,
 * triggers, comments, privileges), with no OID or other value that differs between two databases
 * holding the same schema. Two descriptions are equal exactly when the schemas are. The tables of
 * pgmq's queues (q_<name>, a_<name>, their indexes and sequences) are data, made by pgmq.create for
 * each flow, not schema: they are left out.
 */
import type pg from 'pg';

const DESCRIBE = /* sql */ `
with ns as (select n.oid, n.nspname, n.nspacl from pg_catalog.pg_namespace n where n.nspname = any($1::text[])),
queue_tables as (
  select c.oid from pg_catalog.pg_class c
   where c.relnamespace = to_regnamespace('pgmq') and c.relname ~ '^([qa]_|archived_at_idx_)'
)
select line from (
  select format('schema %s acl=%s comment=%s', ns.nspname, ns.nspacl,
                obj_description(ns.oid, 'pg_namespace')) as line
    from ns
  union all
  select format('relation %s.%s kind=%s persistence=%s options=%s acl=%s comment=%s', ns.nspname, c.relname,
                c.relkind, c.relpersistence, c.reloptions, c.relacl, obj_description(c.oid, 'pg_class'))
    from pg_catalog.pg_class c join ns on ns.oid = c.relnamespace
   where c.oid not in (select oid from queue_tables)
  union all
  select format('column %s.%s #%s %s %s not_null=%s default=%s identity=%s generated=%s comment=%s acl=%s',
                ns.nspname, c.relname, row_number() over (partition by c.oid order by a.attnum), a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                a.attidentity, a.attgenerated, col_description(c.oid, a.attnum), a.attacl)
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_class c on c.oid = a.attrelid
    join ns on ns.oid = c.relnamespace
    left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'c', 'f')
     and c.oid not in (select oid from queue_tables)
  union all
  select format('constraint %s.%s %s %s', ns.nspname, coalesce(c.relname, t.typname), con.conname,
                pg_get_constraintdef(con.oid))
    from pg_catalog.pg_constraint con
    join ns on ns.oid = con.connamespace
    left join pg_catalog.pg_class c on c.oid = con.conrelid
    left join pg_catalog.pg_type t on t.oid = con.contypid
   where coalesce(con.conrelid, 0) not in (select oid from queue_tables)
  union all
  select format('index %s', pg_get_indexdef(i.indexrelid))
    from pg_catalog.pg_index i
    join pg_catalog.pg_class c on c.oid = i.indexrelid
    join ns on ns.oid = c.relnamespace
   where i.indrelid not in (select oid from queue_tables)
  union all
  select format('function %s acl=%s comment=%s', pg_get_functiondef(p.oid), p.proacl, obj_description(p.oid, 'pg_proc'))
    from pg_catalog.pg_proc p join ns on ns.oid = p.pronamespace
   where p.prokind in ('f', 'p')
  union all
  select format('type %s.%s kind=%s acl=%s comment=%s', ns.nspname, t.typname, t.typtype, t.typacl,
                obj_description(t.oid, 'pg_type'))
    from pg_catalog.pg_type t join ns on ns.oid = t.typnamespace
   where t.typtype in ('e', 'd', 'r', 'm')
      or (t.typtype = 'c' and exists (select 1 from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
  union all
  select format('enum %s.%s %s', ns.nspname, t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder))
    from pg_catalog.pg_enum e join pg_catalog.pg_type t on t.oid = e.enumtypid join ns on ns.oid = t.typnamespace
   group by ns.nspname, t.typname
  union all
  select format('trigger %s', pg_get_triggerdef(tg.oid))
    from pg_catalog.pg_trigger tg
    join pg_catalog.pg_class c on c.oid = tg.tgrelid
    join ns on ns.oid = c.relnamespace
   where not tg.tgisinternal
  union all
  select format('view %s.%s %s', ns.nspname, c.relname, pg_get_viewdef(c.oid))
    from pg_catalog.pg_class c join ns on ns.oid = c.relnamespace
   where c.relkind in ('v', 'm')
  union all
  select format('default privileges in %s for %s: %s', ns.nspname, d.defaclobjtype, d.defaclacl)
    from pg_catalog.pg_default_acl d join ns on ns.oid = d.defaclnamespace
) lines
order by line`;

export async function describeSchemas(client: pg.ClientBase, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ line: string }>(DESCRIBE, [schemas]);
  return rows.map((row) => row.line);
}

/** The lines only one of two descriptions has, each marked `-` (only in `a`) or `+` (only in `b`). */
export function describeDifferences(a: readonly string[], b: readonly string[]): string[] {
  const inA = new Set(a);
  const inB = new Set(b);
  return [
    ...a.filter((line) => !inB.has(line)).map((line) => `- ${line}`),
    ...b.filter((line) => !inA.has(line)).map((line) => `+ ${line}`),
  ];
}
