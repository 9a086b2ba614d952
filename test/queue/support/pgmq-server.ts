/**
 * What the test server offers, read once when a test file loads, so that files can skip tests of
 * one implementation's details (with the reason in the test name) on a server that gets the other.
 */
import pg from 'pg';
import { chooseImplementation, type PgmqImplementation, pgmqMode } from '../../../migrations/queue-layer/detect.ts';
import { SERVER_URL_ENV } from '../../support/harness-contract.ts';

export interface PgmqServer {
  /** pgmq's default_version in pg_available_extensions, or null. */
  readonly extensionAvailable: string | null;
  /** Whether the server offers pg_partman (the extension then makes partitioned queues). */
  readonly partmanAvailable: boolean;
  /** What the template's migration installed: the same decision, from the same inputs. */
  readonly implementation: PgmqImplementation;
}

export async function pgmqServer(): Promise<PgmqServer> {
  const serverUrl = process.env[SERVER_URL_ENV];
  if (!serverUrl) throw new Error(`${SERVER_URL_ENV} is not set: run the tests with npm test.`);
  const client = new pg.Client({ connectionString: serverUrl, application_name: 'pgflow test probe' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pgmq: string | null; partman: boolean }>(
      `select (select default_version from pg_available_extensions where name = 'pgmq') as pgmq,
              exists (select from pg_available_extensions where name = 'pg_partman') as partman`,
    );
    const extensionAvailable = rows[0]?.pgmq ?? null;
    const implementation = chooseImplementation(pgmqMode(), {
      available: extensionAvailable,
      installed: null,
      schemaExists: false,
      schemaComment: null,
    });
    return { extensionAvailable, partmanAvailable: rows[0]?.partman ?? false, implementation };
  } finally {
    await client.end();
  }
}

type TestBody = () => Promise<void>;
export type ConditionalTest = (name: string, body: TestBody, timeout?: number) => void;

/**
 * `it` when `condition` holds, else `it.skip` with the reason appended to the name, so a skipped
 * test says why in the report.
 */
export function itWhen(condition: boolean, reason: string): ConditionalTest {
  return (name, body, timeout) => {
    if (condition) it(name, body, timeout);
    else it.skip(`${name} [skipped: ${reason}]`, body, timeout);
  };
}

/** For details of the fallback that the real extension does differently (or invisibly). */
export function itWithFallback(server: PgmqServer): ConditionalTest {
  return itWhen(server.implementation === 'fallback', 'the database has the pgmq extension, not the fallback');
}
