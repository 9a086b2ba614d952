/**
 * Written by hand (the queue layer's `extension` part only): pins the search_path of every function
 * of the real pgmq extension, whose functions do not set one and call built-ins (now(),
 * clock_timestamp(), format(), ...) unqualified. Called from a session whose search_path puts a
 * schema other roles can write to before pg_catalog, they would run what those roles planted there.
 * The engine's functions already call pgmq with search_path '' (nested calls inherit it); this
 * covers direct calls (an application's own pgmq.send, pgmq.metrics, ...). Only the functions'
 * owner may alter them: a migrating role that does not own them changes nothing and says so in a
 * NOTICE (docs/SECURITY.md). ALTER EXTENSION pgmq UPDATE and a dump/restore drop the setting: the
 * same statement, in docs/SECURITY.md, sets it again. The fallback's functions set search_path to ''
 * already. Frozen once released (migrations/frozen.json): a later change is a new migration.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { applyMigration, type MigrationSql } from './support/apply-migration.ts';

const sql: MigrationSql = {
  up: {
    extension: [
      `do $pin$
declare
  v_extension oid := (select e.oid from pg_catalog.pg_extension e where e.extname = 'pgmq');
  v_owners text;
  v_function pg_catalog.regprocedure;
begin
  -- Only the owner of a function (or a member of the owning role) may alter it: all or nothing.
  select pg_catalog.string_agg(distinct pg_catalog.pg_get_userbyid(p.proowner)::text, ', ')
    into v_owners
    from pg_catalog.pg_depend d
    join pg_catalog.pg_proc p on p.oid = d.objid
   where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
     and d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
     and d.refobjid = v_extension
     and d.deptype = 'e'
     and not pg_catalog.pg_has_role(p.proowner, 'USAGE');
  if v_owners is not null then
    raise notice using
      message = pg_catalog.format(
        'The functions of the pgmq extension belong to %s, not to %s: their search_path was left as it is.',
        v_owners, current_user),
      hint = 'Direct calls to pgmq functions then run with the caller''s search_path: keep pg_catalog first '
             'in it, or run the statement of docs/SECURITY.md (nestjs-pgflow) as the extension''s owner.';
    return;
  end if;
  for v_function in
    select p.oid::pg_catalog.regprocedure
      from pg_catalog.pg_depend d
      join pg_catalog.pg_proc p on p.oid = d.objid
     where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       and d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       and d.refobjid = v_extension
       and d.deptype = 'e'
       and not exists (select from pg_catalog.unnest(p.proconfig) as c (setting) where c.setting like 'search\\_path=%')
     order by p.oid
  loop
    execute pg_catalog.format('alter function %s set search_path = pg_catalog, pgmq, pg_temp', v_function);
  end loop;
end
$pin$
`,
    ],
  },
  down: {
    extension: [
      `do $unpin$
declare
  v_function pg_catalog.regprocedure;
begin
  for v_function in
    select p.oid::pg_catalog.regprocedure
      from pg_catalog.pg_depend d
      join pg_catalog.pg_proc p on p.oid = d.objid
     where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       and d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       and d.refobjid = (select e.oid from pg_catalog.pg_extension e where e.extname = 'pgmq')
       and d.deptype = 'e'
       and 'search_path=pg_catalog, pgmq, pg_temp' = any (p.proconfig)
       and pg_catalog.pg_has_role(p.proowner, 'USAGE')
     order by p.oid
  loop
    execute pg_catalog.format('alter function %s reset search_path', v_function);
  end loop;
end
$unpin$
`,
    ],
  },
};

export class PgmqSearchPath1796408033597 implements MigrationInterface {
  static readonly sql = sql;
  readonly name = 'PgmqSearchPath1796408033597';

  up(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'up', sql);
  }

  down(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'down', sql);
  }
}
