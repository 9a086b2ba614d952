/**
 * `npm run migrate`: applies every pending migration of the library to the database in
 * DATABASE_URL through TypeORM's migration runner; `npm run migrate -- --revert` undoes the last
 * applied one. Two processes migrating at once take turns (advisory lock), so nothing is half-applied.
 */

import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../migrations/index.ts';

const USAGE = 'Usage: npm run migrate [-- --revert]   (DATABASE_URL names the database)';
/** Advisory lock key shared by every `npm run migrate` on a database: 'pgflow:migrate' as bytes. */
const MIGRATE_LOCK_KEY = 0x7067666c6d6967n;

async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--revert');
  if (unknown.length > 0) throw new UsageError(`Unknown argument ${unknown.map((a) => `'${a}'`).join(', ')}. ${USAGE}`);
  const revert = argv.includes('--revert');
  const url = process.env.DATABASE_URL?.trim();
  if (!url) {
    throw new UsageError(
      `DATABASE_URL is not set. Set it to the database to migrate, e.g. DATABASE_URL=postgres://user@host:5432/app. ${USAGE}`,
    );
  }

  const lock = new pg.Client({ connectionString: url, application_name: 'pgflow migrate (lock)' });
  await lock.connect();
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [...pgflowMigrations],
    migrationsTransactionMode: 'each',
    logging: ['error'],
  });
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATE_LOCK_KEY.toString()]);
    await dataSource.initialize();
    if (revert) {
      const executed = await executedMigrations(dataSource);
      if (executed.length === 0) {
        console.log('No migration to revert: none is applied.');
        return;
      }
      await dataSource.undoLastMigration({ transaction: 'each' });
      console.log(`Reverted ${executed[executed.length - 1]}.`);
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length === 0) console.log(`Database is up to date (${pgflowMigrations.length} migrations).`);
      for (const migration of applied) console.log(`Applied ${migration.name}.`);
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lock.end();
  }
}

async function executedMigrations(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const exists = await dataSource.query<Array<{ present: boolean }>>('select to_regclass($1) is not null as present', [
    table,
  ]);
  if (!exists[0]?.present) return [];
  const rows = await dataSource.query<Array<{ name: string }>>(`select name from "${table}" order by id`);
  return rows.map((row) => row.name);
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) console.error(error.message);
  else console.error(error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
