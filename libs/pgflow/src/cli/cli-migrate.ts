/**
 * `nestjs-pgflow migrate`: applies the library's pending migrations (pgflowMigrations) with TypeORM's
 * migration runner, each in its own transaction, recorded in TypeORM's `migrations` table as
 * `migrationsRun: true` would. Two processes migrating at once take turns (an advisory lock).
 */
import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../../../migrations/index.ts';
import type { CommandOutput } from './cli-commands.ts';

/** Advisory lock key of every migrate command on a database ('pgflow:migrate' as bytes; tools/migrate.ts too). */
const MIGRATE_LOCK_KEY = 0x7067666c6d6967n;

export async function migrate(url: string): Promise<CommandOutput> {
  const lock = new pg.Client({ connectionString: url, application_name: 'nestjs-pgflow migrate (lock)' });
  await lock.connect();
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [...pgflowMigrations],
    migrationsTransactionMode: 'each',
    logging: ['error'],
  });
  try {
    await lock.query('select pg_catalog.pg_advisory_lock($1)', [MIGRATE_LOCK_KEY.toString()]);
    await dataSource.initialize();
    const applied = (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name);
    const text =
      applied.length === 0
        ? `Database is up to date (${pgflowMigrations.length} migrations).`
        : applied.map((name) => `Applied ${name}.`).join('\n');
    return { text, json: { applied, total: pgflowMigrations.length } };
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lock.end();
  }
}
