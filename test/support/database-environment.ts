/**
 * The Jest environment for every test file. It gives the file's helpers the server and template
 * (see test-database.ts), and when the file ends, after its own afterAll hooks, it closes what the
 * helpers opened, fails the file if anything still holds a connection to one of its databases (a
 * worker, a listener, a pool or a Nest app that was not closed), and drops those databases.
 */
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import pg from 'pg';
import { HARNESS_GLOBAL, type HarnessState, SERVER_URL_ENV, TEMPLATE_ENV } from './harness-contract.ts';

/** How long a closed connection may take to leave pg_stat_activity before it counts as leaked. */
const LEAK_GRACE_MS = 3000;

interface LeftoverConnection {
  datname: string;
  application_name: string;
  state: string | null;
  query: string;
}

export default class DatabaseEnvironment extends TestEnvironment {
  private readonly harness: HarnessState | undefined;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const serverUrl = process.env[SERVER_URL_ENV];
    const template = process.env[TEMPLATE_ENV];
    if (serverUrl && template) {
      this.harness = { serverUrl, template, databases: [], closers: [] };
      this.global[HARNESS_GLOBAL] = this.harness;
    }
  }

  async handleTestEvent(event: Circus.AsyncEvent, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish' || !this.harness) return;
    const { closers, databases } = this.harness;
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => state.unhandledErrors.push(error as Error));
    }
    if (databases.length === 0) return;

    const admin = new pg.Client({ connectionString: this.harness.serverUrl, application_name: 'pgflow test harness' });
    await admin.connect();
    try {
      const leftovers = await waitForConnectionsToClose(admin, databases);
      if (leftovers.length > 0) state.unhandledErrors.push(leakError(leftovers));
      for (const name of databases.splice(0)) {
        await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
      }
    } finally {
      await admin.end();
    }
  }
}

async function waitForConnectionsToClose(admin: pg.Client, databases: string[]): Promise<LeftoverConnection[]> {
  const deadline = Date.now() + LEAK_GRACE_MS;
  for (;;) {
    const { rows } = await admin.query<LeftoverConnection>(
      `select datname, application_name, state, left(query, 200) as query
         from pg_stat_activity
        where datname = any($1::text[]) and pid <> pg_backend_pid()`,
      [databases],
    );
    if (rows.length === 0 || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function leakError(leftovers: LeftoverConnection[]): Error {
  const list = leftovers
    .map((c) => `  - ${c.datname}: application_name='${c.application_name}', state=${c.state}, last query: ${c.query}`)
    .join('\n');
  return new Error(
    `This test file left ${leftovers.length} connection(s) open after its last test:\n${list}\n` +
      'Close everything the tests open (await app.close() for Nest apps, destroy() for DataSources, ' +
      'end() for pg pools and clients) in afterEach/afterAll.',
  );
}
