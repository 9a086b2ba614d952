/**
 * How every migration of the library applies its SQL: inside a transaction (its own if TypeORM runs
 * migrations without one), under an advisory lock shared by all of the library's migrations, and
 * only if no other process applied the same migration while this one waited for the lock. So two
 * application instances migrating one database at the same moment apply each migration once, and a
 * failure leaves nothing half-applied.
 */
import type { QueryRunner } from 'typeorm';

/** Advisory lock key of the library's migrations ('pgflowmg' as bytes). */
const MIGRATION_LOCK_KEY = '8099288377440024423';

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
