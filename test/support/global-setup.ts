/**
 * Jest global setup: one PostgreSQL server for the whole run (DATABASE_URL or an embedded one) and
 * one template database migrated once; every test file clones it (see test-database.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../migrations/index.ts';
import { IMPLEMENTATION_QUERY } from '../../migrations/queue-layer/detect.ts';
import { type LocalPostgres, startLocalPostgres, withDatabase } from '../../tools/local-postgres.ts';
import { SERVER_URL_ENV, TEMPLATE_ENV } from './harness-contract.ts';
import { preparePgmqForTests } from './pgmq-for-tests.ts';

declare global {
  var __pgflowTestServer: { server: LocalPostgres; template: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const server = await startLocalPostgres({ name: 'test', unsafeFast: true });
  const template = `pgflow_template_${randomBytes(5).toString('hex')}`;
  globalThis.__pgflowTestServer = { server, template };
  await preparePgmqForTests(server);

  const admin = new pg.Client({ connectionString: server.url, application_name: 'pgflow test harness' });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(template)}`);
  } finally {
    await admin.end();
  }

  const dataSource = new DataSource({
    type: 'postgres',
    url: withDatabase(server.url, template),
    migrations: [...pgflowMigrations],
    migrationsTransactionMode: 'each',
    logging: ['error'],
  });
  await dataSource.initialize();
  let queueLayer: string;
  try {
    await dataSource.runMigrations();
    const [row] = (await dataSource.query(IMPLEMENTATION_QUERY)) as Array<{ pgmq_implementation: string }>;
    queueLayer = row?.pgmq_implementation ?? 'none';
  } finally {
    await dataSource.destroy();
  }

  process.env[SERVER_URL_ENV] = server.url;
  process.env[TEMPLATE_ENV] = template;
  const where = server.source === 'embedded' ? `embedded PostgreSQL at ${server.url}` : 'PostgreSQL from DATABASE_URL';
  process.stdout.write(`\n${where}; queue layer: ${queueLayer}\n`);
}
