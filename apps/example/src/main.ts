/**
 * `npm start`. For now it proves the PostgreSQL setup end to end: it starts (or finds) the server,
 * applies the library's migrations, prints what it ran on, and stops. The example application
 * replaces this once the library exists.
 */
import 'reflect-metadata';
import { pgflowMigrations } from 'nestjs-pgflow';
import { DataSource } from 'typeorm';
import { startLocalPostgres } from '../../../tools/local-postgres.ts';

const server = await startLocalPostgres({ name: 'example', persistent: true });
try {
  const dataSource = new DataSource({ type: 'postgres', url: server.url, migrations: [...pgflowMigrations] });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const [{ version }] = await dataSource.query<Array<{ version: string }>>('select version()');
    console.log(`PostgreSQL (${server.source}${server.dataDir ? `, data in ${server.dataDir}` : ''}): ${version}`);
    console.log(`migrations: ${applied.length} applied now, ${pgflowMigrations.length} in the library`);
  } finally {
    await dataSource.destroy();
  }
} finally {
  await server.stop();
}
