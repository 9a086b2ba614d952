/**
 * Adopting a database where pgflow 0.14 is installed (its schema pgflow, with the pgmq extension):
 * before the engine's migration creates schema pgflow, this one moves pgflow's schema out of the
 * way, to pgflow_adopted; AdoptPgflowData then copies its flows, runs, states, tasks and workers
 * into the engine's tables (the queues, and their messages, stay where they are, in pgmq), so that
 * runs in flight finish under this library's workers. A database without pgflow, or one that
 * already has this engine, is left alone. Its timestamp puts it before the engine's migration
 * (TypeORM orders migrations by their timestamp); where the engine exists already it does nothing.
 * Written by hand; frozen once released (migrations/frozen.json).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { applyMigration, type MigrationSql } from './support/apply-migration.ts';

const sql: MigrationSql = {
  up: {
    engine: [
      `do $$
begin
  if to_regnamespace('pgflow') is null
     or obj_description(to_regnamespace('pgflow'), 'pg_namespace')
        = 'nestjs-pgflow workflow engine (pgflow 0.14 compatible)' then
    return;
  end if;
  if to_regclass('pgflow.flows') is null or to_regclass('pgflow.runs') is null
     or to_regclass('pgflow.step_states') is null or to_regclass('pgflow.step_tasks') is null then
    raise exception using
      message = 'This database has a schema named pgflow that is neither pgflow''s nor nestjs-pgflow''s engine '
                || '(it has no pgflow.flows, runs, step_states and step_tasks), so the engine cannot be installed.',
      hint = 'Rename or drop that schema (ALTER SCHEMA pgflow RENAME TO ...), then run the migrations again.';
  end if;
  if not exists (select 1 from information_schema.columns
                  where table_schema = 'pgflow' and table_name = 'steps' and column_name = 'when_exhausted') then
    raise exception using
      message = 'This database has pgflow older than 0.14 (pgflow.steps has no when_exhausted column); '
                || 'nestjs-pgflow adopts pgflow 0.14 databases.',
      hint = 'Upgrade pgflow to 0.14 first (its own migrations), then run these migrations again.';
  end if;
  if to_regnamespace('pgflow_adopted') is not null then
    raise exception using
      message = 'This database has pgflow installed and also a schema pgflow_adopted, where adoption would move '
                || 'pgflow''s schema.',
      hint = 'Drop or rename schema pgflow_adopted (a copy kept from an earlier adoption), then run the migrations again.';
  end if;
  alter schema pgflow rename to pgflow_adopted;
  comment on schema pgflow_adopted is 'pgflow 0.14 installation being adopted by nestjs-pgflow (migration AdoptPgflow1764150050000)';
end;
$$
`,
    ],
  },
  down: { engine: [] },
};

export class AdoptPgflow1764150050000 implements MigrationInterface {
  static readonly sql = sql;
  readonly name = 'AdoptPgflow1764150050000';

  up(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'up', sql);
  }

  down(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'down', sql);
  }
}
