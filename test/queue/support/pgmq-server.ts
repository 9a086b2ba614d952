/**
 * What the test server offers, read once when a test file loads, and databases of either queue
 * layer on it. The suite runs twice in CI, once per layer (PGFLOW_PGMQ=fallback, then =extension):
 * a test of one layer's details either asserts what the template's layer does, or creates a
 * database of the layer it is about. Nothing is skipped: a test is generated for each state the
 * server can give a database.
 *
 * A database can be made to offer pgmq, or not, whatever the server's extension folder holds, on
 * PostgreSQL 18 and newer: extension_control_path (set per database by a superuser) replaces the
 * folders where CREATE EXTENSION and pg_available_extensions look. Older servers offer what they
 * have.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../../migrations/index.ts';
import { IMPLEMENTATION_QUERY, type PgmqImplementation } from '../../../migrations/queue-layer/detect.ts';
import { withDatabase } from '../../../tools/local-postgres.ts';
import { installPgmqFiles, PGMQ_VENDOR_VERSION, pgmqVendorDir } from '../../../tools/pgmq-extension.ts';
import { HARNESS_GLOBAL, type HarnessState, SERVER_URL_ENV, TEMPLATE_ENV } from '../../support/harness-contract.ts';
import { createEmptyDatabase, type EmptyDatabase } from './empty-database.ts';
import { silentLogger, withPgmqMode } from './migrate-queue-layer.ts';

export interface PgmqServer {
  /** pgmq's default_version in the server's pg_available_extensions, or null. */
  readonly extensionAvailable: string | null;
  /** What the template's migration installed (PGFLOW_PGMQ of the run, and what the server offers). */
  readonly implementation: PgmqImplementation;
  /**
   * Whether pgmq is offered, for each state a new database can have: both on PostgreSQL 18+
   * (when the vendored pgmq is found or the server has it), else only what the server offers.
   */
  readonly offerStates: readonly boolean[];
  /** The queue layers a new database can get: the fallback always, the extension where it can be offered. */
  readonly layers: readonly PgmqImplementation[];
}

export async function pgmqServer(): Promise<PgmqServer> {
  const serverUrl = process.env[SERVER_URL_ENV];
  const template = process.env[TEMPLATE_ENV];
  if (!serverUrl || !template) throw new Error(`${SERVER_URL_ENV} is not set: run the tests with npm test.`);
  const client = new pg.Client({
    connectionString: withDatabase(serverUrl, template),
    application_name: 'pgflow test probe',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ pgmq: string | null; version: number }>(
      `select (select default_version from pg_available_extensions where name = 'pgmq') as pgmq,
              current_setting('server_version_num')::int as version`,
    );
    const [{ pgmq_implementation: layer }] = (await client.query<{ pgmq_implementation: string }>(IMPLEMENTATION_QUERY))
      .rows as [{ pgmq_implementation: string }];
    const extensionAvailable = rows[0]?.pgmq ?? null;
    const pathSetting = (rows[0]?.version ?? 0) >= 180000;
    const canOffer = extensionAvailable !== null || (pathSetting && vendorFound());
    const offerStates = pathSetting ? [...(canOffer ? [true] : []), false] : [extensionAvailable !== null];
    return {
      extensionAvailable,
      implementation: layer.startsWith('extension') ? 'extension' : 'fallback',
      offerStates,
      layers: canOffer ? ['fallback', 'extension'] : ['fallback'],
    };
  } finally {
    await client.end();
  }
}

/** An empty database (see empty-database.ts) that offers pgmq or not, as asked. */
export async function createEmptyDatabaseOffering(offered: boolean): Promise<EmptyDatabase> {
  const database = await createEmptyDatabase();
  if ((await offeredIn(database.url)) === offered) return database;
  const admin = new pg.Client({ connectionString: harness().serverUrl, application_name: 'pgflow test harness' });
  await admin.connect();
  try {
    // A folder without pgmq hides the server's; a folder holding a copy of the vendored one offers it.
    const path = offered ? offeringFolder() : emptyFolder();
    await admin.query(
      `alter database ${admin.escapeIdentifier(database.name)} set extension_control_path = ${admin.escapeLiteral(path)}`,
    );
  } finally {
    await admin.end();
  }
  if ((await offeredIn(database.url)) !== offered) {
    throw new Error(
      `Could not make database ${database.name} ${offered ? 'offer' : 'hide'} pgmq through extension_control_path: ` +
        'does the server run on this machine (it must read the folder)?',
    );
  }
  return database;
}

/** A test database of its own with every migration applied on `layer`. */
export interface LayerDatabase extends EmptyDatabase {
  readonly layer: PgmqImplementation;
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/**
 * Creates a database with the queue layer `layer` and the engine (every migration), dropped when the
 * file ends. It offers pgmq when it has the extension; for the fallback, `pgmqOffered` can ask for
 * either (default: whatever the server offers).
 */
export async function createLayerDatabase(
  layer: PgmqImplementation,
  options: { readonly pgmqOffered?: boolean } = {},
): Promise<LayerDatabase> {
  const offered = layer === 'extension' ? true : options.pgmqOffered;
  const database = offered === undefined ? await createEmptyDatabase() : await createEmptyDatabaseOffering(offered);
  await withPgmqMode(layer, async () => {
    const dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [...pgflowMigrations],
      migrationsTransactionMode: 'each',
      logger: silentLogger,
    });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
  });
  const pool = new pg.Pool({ connectionString: database.url, max: 2, application_name: 'pgflow test' });
  harness().closers.push(() => pool.end());
  return { ...database, layer, query: async (sql, params) => (await pool.query(sql, params)).rows };
}

async function offeredIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow test probe' });
  await client.connect();
  try {
    const { rows } = await client.query("select 1 from pg_available_extensions where name = 'pgmq'");
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

function vendorFound(): boolean {
  try {
    pgmqVendorDir();
    return true;
  } catch {
    return false;
  }
}

/**
 * A folder outside the repository whose `extension` subfolder holds the vendored pgmq, for
 * extension_control_path (which looks in `<folder>/extension`).
 */
function offeringFolder(): string {
  const folder = join(tmpdir(), `pgflow-pgmq-${PGMQ_VENDOR_VERSION}`);
  mkdirSync(join(folder, 'extension'), { recursive: true, mode: 0o755 });
  installPgmqFiles(pgmqVendorDir(), join(folder, 'extension'));
  return folder;
}

/** A folder without an `extension` subfolder: extension_control_path set to it offers no extension. */
function emptyFolder(): string {
  const folder = join(tmpdir(), 'pgflow-no-extensions');
  mkdirSync(folder, { recursive: true, mode: 0o755 });
  return folder;
}

function harness(): HarnessState {
  const state = (globalThis as Record<string, unknown>)[HARNESS_GLOBAL] as HarnessState | undefined;
  if (!state) throw new Error('The PostgreSQL test harness is not set up: run the tests with npm test.');
  return state;
}
