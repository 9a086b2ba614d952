/**
 * The migration that pins the search_path of the pgmq extension's functions
 * (PgmqSearchPath1796408033597), on every queue layer the server can give a database: it leaves the
 * fallback alone, pins every function of the extension (and down unpins them), changes nothing and
 * says why in a NOTICE when the migrating role does not own them, and the statement docs/SECURITY.md
 * gives for pinning them again (after ALTER EXTENSION pgmq UPDATE) is the migration's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { PgmqSearchPath1796408033597 } from '../../../migrations/1796408033597-pgmq-search-path.ts';
import { pgflowMigrations } from '../../../migrations/index.ts';
import type { PgmqImplementation } from '../../../migrations/queue-layer/detect.ts';
import { projectRoot, withDatabase } from '../../../tools/local-postgres.ts';
import { createEmptyDatabase, type EmptyDatabase } from '../../queue/support/empty-database.ts';
import { silentLogger, withPgmqMode } from '../../queue/support/migrate-queue-layer.ts';
import { createEmptyDatabaseOffering, pgmqServer } from '../../queue/support/pgmq-server.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { useRole } from '../support/roles.ts';

const PIN = 'search_path=pg_catalog, pgmq, pg_temp';
const server = await pgmqServer();
const db = useTestDatabase();
const migrator = useRole(db, 'migrator');

const PIN_STATEMENT = PgmqSearchPath1796408033597.sql.up.extension?.[0] ?? '';
const BEFORE_PIN = pgflowMigrations.slice(0, pgflowMigrations.indexOf(PgmqSearchPath1796408033597));
/** Up to the pin included: its down step is then the last migration's (later migrations follow it). */
const THROUGH_PIN = pgflowMigrations.slice(0, pgflowMigrations.indexOf(PgmqSearchPath1796408033597) + 1);

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow test pin' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function migrate(
  url: string,
  layer: PgmqImplementation,
  migrations: ReadonlyArray<new () => MigrationInterface>,
  direction: 'up' | 'down' = 'up',
): Promise<void> {
  await withPgmqMode(layer, async () => {
    const dataSource = new DataSource({ type: 'postgres', url, migrations: [...migrations], logger: silentLogger });
    await dataSource.initialize();
    try {
      if (direction === 'up') await dataSource.runMigrations({ transaction: 'each' });
      else await dataSource.undoLastMigration({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
  });
}

/** Every function of schema pgmq with its settings, in a stable order. */
async function pgmqFunctions(url: string): Promise<Array<{ fn: string; config: string[] | null }>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ fn: string; config: string[] | null }>(
      `select p.oid::regprocedure::text as fn, p.proconfig as config from pg_proc p
        where p.pronamespace = 'pgmq'::regnamespace order by 1`,
    );
    return rows;
  });
}

/** The statement docs/SECURITY.md gives for pinning pgmq's functions again. */
function documentedPin(): string {
  const doc = readFileSync(join(projectRoot(), 'docs', 'SECURITY.md'), 'utf8');
  const block = /<!-- pgmq-pin:start -->\s*```sql\n([\s\S]*?)```\s*<!-- pgmq-pin:end -->/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/SECURITY.md has no pgmq-pin block.');
  return block;
}

async function databaseFor(layer: PgmqImplementation): Promise<EmptyDatabase> {
  return layer === 'extension' ? createEmptyDatabaseOffering(true) : createEmptyDatabase();
}

describe.each(server.layers)('the pin of pgmq search_path, on the %s', (layer) => {
  if (layer === 'fallback') {
    it("changes no function of the fallback (each sets search_path to '' already)", async () => {
      const database = await databaseFor(layer);
      await migrate(database.url, layer, BEFORE_PIN);
      const before = await pgmqFunctions(database.url);
      await migrate(database.url, layer, pgflowMigrations);

      expect(await pgmqFunctions(database.url)).toEqual(before);
      expect(before.every((f) => JSON.stringify(f.config) === '["search_path=\\"\\""]')).toBe(true);
    });
    return;
  }

  it('pins every function of the extension, and down unpins them', async () => {
    const database = await databaseFor(layer);
    await migrate(database.url, layer, BEFORE_PIN);
    const before = await pgmqFunctions(database.url);
    expect(before.filter((f) => f.config !== null)).toEqual([]);

    await migrate(database.url, layer, THROUGH_PIN);
    const pinned = await pgmqFunctions(database.url);
    expect(pinned.map((f) => f.fn)).toEqual(before.map((f) => f.fn));
    expect(pinned.filter((f) => JSON.stringify(f.config) !== JSON.stringify([PIN]))).toEqual([]);

    await migrate(database.url, layer, THROUGH_PIN, 'down');
    expect(await pgmqFunctions(database.url)).toEqual(before);
  });

  it("changes nothing, and says so in a NOTICE, when the migrating role does not own the extension's functions", async () => {
    const database = await databaseFor(layer);
    // The extension was created by another role (here a superuser), as on a managed server.
    await withClient(database.url, (client) => client.query('create extension pgmq'));
    await withClient(database.url, (client) =>
      client.query(`grant create on database "${database.name}" to ${migrator.name};
                    grant create on schema public to ${migrator.name}`),
    );
    const asMigrator = withDatabase(migrator.url, database.name);
    const [{ owner }] = await db.query<{ owner: string }>('select current_user as owner');
    const before = await pgmqFunctions(database.url);
    try {
      await migrate(asMigrator, layer, pgflowMigrations);
      expect(await pgmqFunctions(database.url)).toEqual(before);
      const notices: Array<{ message?: string; hint?: string }> = [];
      await withClient(asMigrator, async (client) => {
        client.on('notice', (notice) => notices.push(notice));
        await client.query(PIN_STATEMENT);
      });
      expect(notices.map((n) => ({ message: n.message, hint: n.hint }))).toEqual([
        {
          message: `The functions of the pgmq extension belong to ${owner}, not to ${migrator.name}: their search_path was left as it is.`,
          hint: expect.stringContaining('docs/SECURITY.md'),
        },
      ]);
    } finally {
      // The role is dropped with the file; what it made in this database goes first.
      await withClient(database.url, (client) => client.query(`drop owned by ${migrator.name} cascade`));
    }
  });

  it("docs/SECURITY.md gives the migration's own statement, which pins them again after an update reset them", async () => {
    expect(documentedPin().trim()).toBe(PIN_STATEMENT.trim());
    const database = await databaseFor(layer);
    await migrate(database.url, layer, pgflowMigrations);
    // What ALTER EXTENSION pgmq UPDATE does to the functions it replaces: their settings are gone.
    await withClient(database.url, async (client) => {
      for (const statement of PgmqSearchPath1796408033597.sql.down.extension ?? []) await client.query(statement);
    });
    expect((await pgmqFunctions(database.url)).filter((f) => f.config !== null)).toEqual([]);

    await withClient(database.url, (client) => client.query(documentedPin()));
    expect(
      (await pgmqFunctions(database.url)).filter((f) => JSON.stringify(f.config) !== JSON.stringify([PIN])),
    ).toEqual([]);
  });
});
