/**
 * A private database for one test file: cloned from the migrated template before the file's first
 * test, dropped by the test environment after its last one (see database-environment.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { HARNESS_GLOBAL, type HarnessState } from './harness-contract.ts';

export interface TestDatabase {
  /** The database's name. */
  readonly name: string;
  /** Connection string for it. */
  readonly url: string;
  /** A pool on it for the test's own queries; closed by the harness. */
  readonly pool: pg.Pool;
  /** Shorthand for pool.query(...).rows. */
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A new client on the database, closed by the harness at the end of the file. */
  connect(applicationName?: string): Promise<pg.Client>;
}

function harness(): HarnessState {
  const state = (globalThis as Record<string, unknown>)[HARNESS_GLOBAL] as HarnessState | undefined;
  if (!state) {
    throw new Error(
      'The PostgreSQL test harness is not set up: run the tests with `npm test` (jest.config.js sets the ' +
        'global setup and the database test environment).',
    );
  }
  return state;
}

/**
 * Creates a database from the template for this test file, in a beforeAll hook. Read the returned
 * object's fields inside tests and hooks, not at the top level of the file.
 */
export function useTestDatabase(): TestDatabase {
  let created: TestDatabase | undefined;
  beforeAll(async () => {
    created = await createTestDatabase();
  });
  const current = (): TestDatabase => {
    if (!created) throw new Error('useTestDatabase(): the database exists only inside tests and hooks.');
    return created;
  };
  return {
    get name() {
      return current().name;
    },
    get url() {
      return current().url;
    },
    get pool() {
      return current().pool;
    },
    query: (sql, params) => current().query(sql, params),
    connect: (applicationName) => current().connect(applicationName),
  };
}

/**
 * Creates a database from the template now (or an empty one, never migrated, with `migrated:
 * false`); the environment drops it when the file ends.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const state = harness();
  const name = `pgflow_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: state.serverUrl, application_name: 'pgflow test harness' });
  await admin.connect();
  try {
    const template = options.migrated === false ? 'template0' : state.template;
    await admin.query(`create database ${admin.escapeIdentifier(name)} template ${admin.escapeIdentifier(template)}`);
  } finally {
    await admin.end();
  }
  state.databases.push(name);

  const parsed = new URL(state.serverUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'pgflow test' });
  state.closers.push(() => pool.end());
  return {
    name,
    url,
    pool,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    connect: async (applicationName = 'pgflow test client') => {
      const client = new pg.Client({ connectionString: url, application_name: applicationName });
      await client.connect();
      let ended = false;
      const end = client.end.bind(client);
      client.end = (async () => {
        if (ended) return;
        ended = true;
        await end();
      }) as typeof client.end;
      state.closers.push(() => client.end());
      return client;
    },
  };
}
