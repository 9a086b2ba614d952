/**
 * How every migration of the library applies its SQL: inside a transaction (its own if TypeORM runs
 * migrations without one), under an advisory lock shared by all of the library's migrations, and
 * only if no other process applied the same migration while this one waited for the lock. So two
 * application instances migrating one database at the same moment apply each migration once, and a
 * failure leaves nothing half-applied.
 */
import type { QueryRunner } from 'typeorm';
import { installedImplementation, readPgmqState } from '../queue-layer/detect.ts';

/**
 * A migration's SQL, by part: `engine` always runs; `fallback` runs only where the queue layer is
 * our fallback, `extension` only where it is the pgmq extension (the queue layer's own migration
 * picks one of the two to install). Every migration keeps its SQL in a constant of this shape, so
 * that a test can check that a released migration's SQL never changes (migrations/frozen.json).
 */
export interface MigrationSql {
  readonly up: MigrationParts;
  readonly down: MigrationParts;
}

export interface MigrationParts {
  readonly engine?: readonly string[];
  readonly fallback?: readonly string[];
  readonly extension?: readonly string[];
}

/**
 * Applies one direction of a migration: its engine part, then the part of the queue layer this
 * database has. Function bodies are checked when they run, not when they are created, so that a
 * migration may create functions in any order (as pg_dump's output does); the setting is restored
 * afterwards.
 */
export async function applyMigration(
  queryRunner: QueryRunner,
  migrationName: string,
  direction: 'up' | 'down',
  sql: MigrationSql,
): Promise<void> {
  const parts = sql[direction];
  const queueLayer =
    parts.fallback || parts.extension ? installedImplementation(await readPgmqState(queryRunner)) : null;
  const statements = [
    ...(parts.engine ?? []),
    ...((queueLayer === 'fallback' ? parts.fallback : queueLayer === 'extension' ? parts.extension : undefined) ?? []),
  ];
  if (statements.length === 0) return runMigrationSql(queryRunner, migrationName, direction, []);
  await runMigrationSql(queryRunner, migrationName, direction, [
    "select set_config('pgflow.check_function_bodies', current_setting('check_function_bodies'), true), " +
      "set_config('check_function_bodies', 'off', true)",
    ...statements,
    "select set_config('check_function_bodies', current_setting('pgflow.check_function_bodies'), true)",
  ]);
}

/** Advisory lock key of the library's migrations ('pgflowmg' as bytes). */
export const MIGRATION_LOCK_KEY = '8099288377440024423';

export async function runMigrationSql(
  queryRunner: QueryRunner,
  migrationName: string,
  direction: 'up' | 'down',
  statements: readonly string[],
): Promise<void> {
  const ownTransaction = !queryRunner.isTransactionActive;
  if (ownTransaction) await queryRunner.startTransaction();
  try {
    await queryRunner.query('select pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    const applied = await isRecorded(queryRunner, migrationName);
    // Going up, a recorded migration was applied by another process while we waited; going down,
    // an unrecorded one was already reverted by another process.
    if ((direction === 'up' && !applied) || (direction === 'down' && applied)) {
      for (const sql of statements) await queryRunner.query(sql);
    }
    if (ownTransaction) await queryRunner.commitTransaction();
  } catch (error) {
    if (ownTransaction) await queryRunner.rollbackTransaction();
    throw error;
  }
}

async function isRecorded(queryRunner: QueryRunner, migrationName: string): Promise<boolean> {
  const { options, driver } = queryRunner.connection;
  const schema = 'schema' in options ? options.schema : undefined;
  const table = driver.buildTableName(options.migrationsTableName ?? 'migrations', schema);
  const quoted = table
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
  const [exists] = await queryRunner.query('select to_regclass($1) is not null as present', [quoted]);
  if (!exists?.present) return false;
  const rows = await queryRunner.query(`select 1 from ${quoted} where name = $1 limit 1`, [migrationName]);
  return rows.length > 0;
}
