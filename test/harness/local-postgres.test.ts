import { existsSync } from 'node:fs';
import pg from 'pg';
import { startLocalPostgres, withDatabase } from '../../tools/local-postgres.ts';

describe('startLocalPostgres', () => {
  it('uses DATABASE_URL when it is set, without starting anything', async () => {
    const server = await startLocalPostgres({
      name: 'unused',
      env: { DATABASE_URL: 'postgres://u@db.example:5433/app' },
    });
    expect(server).toMatchObject({
      source: 'DATABASE_URL',
      url: 'postgres://u@db.example:5433/app',
      dataDir: undefined,
    });
    await server.stop();
  });

  it('starts an embedded server on a free port when DATABASE_URL is unset, and removes it on stop', async () => {
    const server = await startLocalPostgres({ name: 'harness-check', env: {} });
    try {
      expect(server.source).toBe('embedded');
      expect(server.dataDir && existsSync(server.dataDir)).toBe(true);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ server_version_num: string }>('show server_version_num');
      await client.end();
      expect(Number(rows[0]?.server_version_num)).toBeGreaterThanOrEqual(140000);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDir as string)).toBe(false);
  }, 60_000);

  it('builds connection strings for another database on the same server', () => {
    expect(withDatabase('postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable', 'pgflow_x')).toBe(
      'postgres://u:p@127.0.0.1:5432/pgflow_x?sslmode=disable',
    );
  });
});
