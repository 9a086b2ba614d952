/**
 * An empty database (not cloned from the migrated template), for tests of the migrations
 * themselves. The harness drops it with the file's other databases.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from '../../../tools/local-postgres.ts';
import { HARNESS_GLOBAL, type HarnessState } from '../../support/harness-contract.ts';

export interface EmptyDatabase {
  readonly name: string;
  readonly url: string;
}

export async function createEmptyDatabase(): Promise<EmptyDatabase> {
  const harness = (globalThis as Record<string, unknown>)[HARNESS_GLOBAL] as HarnessState | undefined;
  if (!harness) throw new Error('The PostgreSQL test harness is not set up: run the tests with npm test.');
  const name = `pgflow_test_empty_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: harness.serverUrl, application_name: 'pgflow test harness' });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)} template template0`);
  } finally {
    await admin.end();
  }
  harness.databases.push(name);
  return { name, url: withDatabase(harness.serverUrl, name) };
}
