/**
 * Database roles for the security tests. Role names are cluster-global (the test databases share a
 * server), so each gets a unique name; it is dropped with what it owns or was granted when the file
 * ends, after its connections are closed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestDatabase } from '../../support/test-database.ts';

/** Every role these tests create starts with this, so that other checks can tell them apart. */
export const TEST_ROLE_PREFIX = 'pgflow_rel_';

export interface TestRole {
  /** The role's name (unique per test run). */
  readonly name: string;
  /** A connection string to the test database as this role. */
  readonly url: string;
  /** A connection as this role, closed when the file ends (or earlier by the caller). */
  connect(searchPath?: string): Promise<pg.Client>;
}

/** Creates a login role in beforeAll; drops it in afterAll. Grant it what the test needs. */
export function useRole(db: TestDatabase, purpose: string): TestRole {
  const name = `${TEST_ROLE_PREFIX}${purpose}_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const clients: pg.Client[] = [];
  let url = '';

  beforeAll(async () => {
    await db.query(`create role ${name} login password '${password}'`);
    const parsed = new URL(db.url);
    parsed.username = name;
    parsed.password = password;
    url = parsed.toString();
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.end().catch(() => {});
    // Privileges and default privileges in the test database; then the role itself.
    await db.query(`drop owned by ${name} cascade`);
    await db.query(`drop role ${name}`);
  });

  return {
    name,
    get url() {
      return url;
    },
    async connect(searchPath) {
      const client = new pg.Client({
        connectionString: url,
        application_name: `pgflow test role ${purpose}`,
        ...(searchPath === undefined ? {} : { options: `-c search_path=${searchPath}` }),
      });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}
