/**
 * Throwaway databases for the migration tools: one migrated by the library's migrations, one built
 * from the current definitions in migrations/sql, so that the two can be compared.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { PGMQ_MODE_ENV } from '../../migrations/queue-layer/detect.ts';
import { withDatabase } from '../local-postgres.ts';
import { applySqlSource, type SourceSchema } from './sql-source.ts';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  /** A client on the database (closed by drop()). */
  readonly client: pg.Client;
  drop(): Promise<void>;
}

export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withAdmin(serverUrl, (admin) => admin.query(`create database ${admin.escapeIdentifier(name)}`));
  const url = withDatabase(serverUrl, name);
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow migration tools' });
  await client.connect();
  return {
    name,
    url,
    client,
    drop: async () => {
      await client.end();
      await withAdmin(serverUrl, (admin) => admin.query(`drop database if exists ${admin.escapeIdentifier(name)}`));
    },
  };
}

/**
 * Applies the migrations (all pending ones) with the queue layer forced to `queueLayer`, so that the
 * fallback's changes are seen even on a server that has the pgmq extension.
 */
export async function runMigrations(
  url: string,
  migrations: ReadonlyArray<new () => MigrationInterface>,
  queueLayer: 'fallback' | 'auto' = 'fallback',
): Promise<void> {
  const previous = process.env[PGMQ_MODE_ENV];
  process.env[PGMQ_MODE_ENV] = queueLayer;
  const dataSource = new DataSource({ type: 'postgres', url, migrations: [...migrations], logging: ['error'] });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (previous === undefined) delete process.env[PGMQ_MODE_ENV];
    else process.env[PGMQ_MODE_ENV] = previous;
  }
}

export async function buildFromSource(database: ScratchDatabase, schemas: readonly SourceSchema[]): Promise<void> {
  await applySqlSource(database.client, schemas);
}

async function withAdmin<T>(serverUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl, application_name: 'pgflow migration tools' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
