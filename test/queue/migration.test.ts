/**
 * The queue layer migration: detection, PGFLOW_PGMQ, the record of the choice, and down. The tests
 * of what happens where the server offers pgmq, and where it does not, run on databases made to
 * offer it or not (see support/pgmq-server.ts): on PostgreSQL 18+ both sets run whatever the server
 * has installed, on older servers the set of the server's own state.
 */
import pg from 'pg';
import { IMPLEMENTATION_QUERY } from '../../migrations/queue-layer/detect.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { createEmptyDatabase, type EmptyDatabase } from './support/empty-database.ts';
import { migrateQueueLayer } from './support/migrate-queue-layer.ts';
import { createEmptyDatabaseOffering, pgmqServer } from './support/pgmq-server.ts';

const server = await pgmqServer();
const template = useTestDatabase();

interface DatabaseFacts {
  implementation: string;
  schemaComment: string | null;
  migrationRecorded: boolean;
  relations: number;
}

/** Opens a short connection to `database` and reads what the queue layer left there. */
async function facts(database: EmptyDatabase): Promise<DatabaseFacts> {
  const client = new pg.Client({ connectionString: database.url, application_name: 'pgflow test facts' });
  await client.connect();
  try {
    const [{ implementation }] = (await client.query<{ pgmq_implementation: string }>(IMPLEMENTATION_QUERY)).rows.map(
      (row) => ({ implementation: row.pgmq_implementation }),
    );
    const { rows } = await client.query<Omit<DatabaseFacts, 'implementation'>>(
      `select obj_description(to_regnamespace('pgmq'), 'pg_namespace') as "schemaComment",
              case when to_regclass('public.migrations') is null then false
                   else exists (select from public.migrations where name = 'QueueLayer1764150000000') end
                as "migrationRecorded",
              (select count(*)::int from pg_class where relnamespace = to_regnamespace('pgmq')) as relations`,
    );
    return { implementation: implementation ?? 'none', ...(rows[0] as Omit<DatabaseFacts, 'implementation'>) };
  } finally {
    await client.end();
  }
}

/** Creates a queue, sends, reads and archives one message: the installed layer works. */
async function roundTrip(database: EmptyDatabase): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: database.url, application_name: 'pgflow test roundtrip' });
  await client.connect();
  try {
    await client.query("select pgmq.create('migrated')");
    await client.query(`select pgmq.send('migrated', '{"ok":true}')`);
    const { rows } = await client.query("select msg_id, message from pgmq.read('migrated', 30, 1)");
    await client.query("select pgmq.archive('migrated', 1::bigint)");
    return rows;
  } finally {
    await client.end();
  }
}

async function runSql(database: EmptyDatabase, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: database.url, application_name: 'pgflow test setup' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('the queue layer migration', () => {
  it('the documented query says which implementation the migrated test database has', async () => {
    const [row] = await template.query<{ pgmq_implementation: string }>(IMPLEMENTATION_QUERY);
    expect(row?.pgmq_implementation).toMatch(server.implementation === 'fallback' ? /^fallback$/ : /^extension \d/);
  });

  it('with PGFLOW_PGMQ=fallback installs the fallback', async () => {
    const database = await createEmptyDatabase();
    await migrateQueueLayer(database.url, 'up', 'fallback');
    expect(await facts(database)).toMatchObject({ implementation: 'fallback', migrationRecorded: true });
    expect(await roundTrip(database)).toHaveLength(1);
  });

  it('an invalid PGFLOW_PGMQ fails naming the value and the allowed ones, and changes nothing', async () => {
    const database = await createEmptyDatabase();
    const failure = migrateQueueLayer(database.url, 'up', 'sometimes');
    await expect(failure).rejects.toThrow(
      'PGFLOW_PGMQ="sometimes" is not a valid queue layer mode. Set PGFLOW_PGMQ to one of auto, extension, fallback',
    );
    expect(await facts(database)).toMatchObject({ implementation: 'none', migrationRecorded: false });
  });

  it('down removes the fallback with its queues, and a second up installs it again', async () => {
    const database = await createEmptyDatabase();
    await migrateQueueLayer(database.url, 'up', 'fallback');
    await roundTrip(database);
    await migrateQueueLayer(database.url, 'down');
    expect(await facts(database)).toEqual({
      implementation: 'none',
      schemaComment: null,
      migrationRecorded: false,
      relations: 0,
    });
    await migrateQueueLayer(database.url, 'up', 'fallback');
    expect(await facts(database)).toMatchObject({ implementation: 'fallback', migrationRecorded: true });
    expect(await roundTrip(database)).toEqual([{ msg_id: '1', message: { ok: true } }]);
  });

  it('stops with a clear error when the database has a schema pgmq of its own, and leaves it as it was', async () => {
    const database = await createEmptyDatabase();
    await runSql(database, 'create schema pgmq; create table pgmq.mine (id int)');
    await expect(migrateQueueLayer(database.url, 'up', 'fallback')).rejects.toThrow(
      'This database has a schema named pgmq that is neither the pgmq extension nor the pgflow fallback',
    );
    expect(await facts(database)).toEqual({
      implementation: 'none',
      schemaComment: null,
      migrationRecorded: false,
      relations: 1,
    });
  });
});

if (server.offerStates.includes(false)) {
  describe('the queue layer migration where the server does not offer pgmq', () => {
    it('by default installs the fallback and records it in the comment on schema pgmq', async () => {
      const database = await createEmptyDatabaseOffering(false);
      await migrateQueueLayer(database.url, 'up');
      const after = await facts(database);
      expect(after).toMatchObject({ implementation: 'fallback', migrationRecorded: true });
      expect(after.schemaComment).toMatch(/^pgflow fallback: the pgmq 1\.5 SQL API/);
      expect(await roundTrip(database)).toEqual([{ msg_id: '1', message: { ok: true } }]);
    });

    it('with PGFLOW_PGMQ=extension fails on a server without pgmq, says what is missing and how to fix it, and changes nothing', async () => {
      const database = await createEmptyDatabaseOffering(false);
      const failure = migrateQueueLayer(database.url, 'up', 'extension');
      await expect(failure).rejects.toThrow(
        'PGFLOW_PGMQ=extension requires the pgmq extension (1.5 or newer), but this PostgreSQL server does not offer pgmq',
      );
      await expect(failure).rejects.toThrow(/Install pgmq on the server .* or set PGFLOW_PGMQ=auto or fallback/);
      expect(await facts(database)).toEqual({
        implementation: 'none',
        schemaComment: null,
        migrationRecorded: false,
        relations: 0,
      });
    });
  });
}

if (server.offerStates.includes(true)) {
  describe('the queue layer migration where the server offers pgmq', () => {
    it('by default uses the pgmq extension the server offers', async () => {
      const database = await createEmptyDatabaseOffering(true);
      await migrateQueueLayer(database.url, 'up');
      expect((await facts(database)).implementation).toMatch(/^extension \d/);
      expect(await roundTrip(database)).toHaveLength(1);
    });

    it('down leaves a real extension in place', async () => {
      const database = await createEmptyDatabaseOffering(true);
      await migrateQueueLayer(database.url, 'up', 'extension');
      await migrateQueueLayer(database.url, 'down');
      expect(await facts(database)).toMatchObject({ implementation: expect.stringMatching(/^extension/) });
    });

    it('with PGFLOW_PGMQ=fallback refuses a database that has the pgmq extension', async () => {
      const database = await createEmptyDatabaseOffering(true);
      await runSql(database, 'create extension pgmq');
      await expect(migrateQueueLayer(database.url, 'up', 'fallback')).rejects.toThrow(
        /PGFLOW_PGMQ=fallback, but this database already has the pgmq extension/,
      );
    });
  });
}
