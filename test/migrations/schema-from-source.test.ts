/**
 * The current definitions (migrations/sql) and the migrations agree: a database built from the
 * source and one migrated from nothing, step by step with data in between, end with identical
 * schemas; each migration's down step returns the schema to what the steps before it made.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { pgflowMigrations } from '../../migrations/index.ts';
import { IMPLEMENTATION_QUERY } from '../../migrations/queue-layer/detect.ts';
import { describeDifferences, describeSchemas } from '../../tools/migrations/schema-description.ts';
import { runMigrations } from '../../tools/migrations/scratch-database.ts';
import { applySqlSource, sourceSchemas } from '../../tools/migrations/sql-source.ts';
import { createEmptyDatabase } from '../queue/support/empty-database.ts';
import { useTestDatabase } from '../support/test-database.ts';

const migrated = useTestDatabase();

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow schema test' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function queueLayerOf(url: string): Promise<'fallback' | 'extension'> {
  const [row] = await withClient(url, async (client) => (await client.query(IMPLEMENTATION_QUERY)).rows);
  const implementation = String(row?.pgmq_implementation).split(' ')[0];
  if (implementation !== 'fallback' && implementation !== 'extension') {
    throw new Error(`The migrated test database has no queue layer (${implementation}).`);
  }
  return implementation;
}

/**
 * The schema's description, without the statements pgflow._write_queue_statements() writes for the
 * flows' queues into _queue_read, _queue_archive, _queue_send and _queue_has_visible (data, not
 * schema: they follow the flows a database has, and this test creates flows between the migrations).
 */
async function schemaOf(url: string, schemas: readonly string[]): Promise<string[]> {
  const described = await withClient(url, (client) => describeSchemas(client, schemas));
  return described.map((entry) => entry.replace(QUEUE_STATEMENTS, '$1'));
}

const QUEUE_STATEMENTS =
  /(-- Static statements per queue \(pgflow\._write_queue_statements\)\.\n)[\s\S]*?(?= {2}return query )/;

/** pg_dump's schema-only output of `schemas`, without its comments and session settings. */
function dump(url: string, schemas: readonly string[]): string {
  const args = ['--schema-only', '--no-owner', ...schemas.flatMap((schema) => ['--schema', schema]), url];
  return execFileSync('pg_dump', args, { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('--') && !line.startsWith('\\') && !line.startsWith('SET '))
    .join('\n');
}

/** pg_dump refuses a server newer than itself: the dump is compared where their major versions match. */
async function pgDumpMatchesServer(url: string): Promise<boolean> {
  let version: string;
  try {
    version = execFileSync('pg_dump', ['--version'], { encoding: 'utf8' });
  } catch {
    return false;
  }
  const server = await withClient(url, async (client) => (await client.query('show server_version_num')).rows[0]);
  return Number(/(\d+)\./.exec(version)?.[1]) === Math.floor(Number(server.server_version_num) / 10_000);
}

describe('migrations and the current definitions (migrations/sql)', () => {
  it('a database built from migrations/sql has the schema the migrations make', async () => {
    const queueLayer = await queueLayerOf(migrated.url);
    const schemas = queueLayer === 'fallback' ? ['pgmq', 'pgflow'] : ['pgflow'];
    const source = await createEmptyDatabase();
    if (queueLayer === 'extension') await withClient(source.url, (c) => c.query('create extension pgmq'));
    await withClient(source.url, (client) => applySqlSource(client, sourceSchemas(queueLayer)));

    expect(describeDifferences(await schemaOf(migrated.url, schemas), await schemaOf(source.url, schemas))).toEqual([]);
    if (await pgDumpMatchesServer(source.url)) {
      expect(dump(source.url, schemas)).toEqual(dump(migrated.url, schemas));
    }
  }, 120_000);

  it('migrating step by step with runs in between ends with the same schema, and each down step undoes its up step', async () => {
    const queueLayer = await queueLayerOf(migrated.url);
    const schemas = queueLayer === 'fallback' ? ['pgmq', 'pgflow'] : ['pgflow'];
    const stepwise = await createEmptyDatabase();
    const mode = queueLayer === 'fallback' ? 'fallback' : 'auto';
    const after: string[][] = [];
    for (let count = 1; count <= pgflowMigrations.length; count++) {
      await runMigrations(stepwise.url, pgflowMigrations.slice(0, count), mode);
      after.push(await schemaOf(stepwise.url, schemas));
      if (await hasEngine(stepwise.url)) await startARun(stepwise.url, `flow_after_${count}`);
    }
    const final = await schemaOf(migrated.url, schemas);
    expect(describeDifferences(final, after[after.length - 1] ?? [])).toEqual([]);

    // Down, one migration at a time (runs and flows are in the tables: the steps must cope).
    for (let count = pgflowMigrations.length; count >= 2; count--) {
      await revertLast(stepwise.url, pgflowMigrations.slice(0, count));
      expect(describeDifferences(after[count - 2] ?? [], await schemaOf(stepwise.url, schemas))).toEqual([]);
    }
  }, 240_000);
});

async function hasEngine(url: string): Promise<boolean> {
  return withClient(
    url,
    async (client) => (await client.query("select to_regclass('pgflow.flows') is not null as e")).rows[0]?.e,
  );
}

async function startARun(url: string, flowSlug: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('select pgflow.create_flow($1)', [flowSlug]);
    await client.query("select pgflow.add_step($1, 'only')", [flowSlug]);
    await client.query("select pgflow.start_flow($1, '{}'::jsonb)", [flowSlug]);
  });
}

async function revertLast(url: string, migrations: typeof pgflowMigrations): Promise<void> {
  const { DataSource } = await import('typeorm');
  const dataSource = new DataSource({ type: 'postgres', url, migrations: [...migrations], logging: ['error'] });
  await dataSource.initialize();
  try {
    await dataSource.undoLastMigration({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
