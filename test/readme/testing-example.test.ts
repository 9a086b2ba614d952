/**
 * The README's "Testing your flows" example (test/readme/fixtures/welcome.flow.spec.ts), run as a
 * user's Jest file: its describe block is registered by importing it, after this file's database
 * exists and TEST_DATABASE_URL points at it.
 */
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();
const saved = process.env.TEST_DATABASE_URL;

beforeAll(() => {
  process.env.TEST_DATABASE_URL = db.url;
});

afterAll(() => {
  if (saved === undefined) delete process.env.TEST_DATABASE_URL;
  else process.env.TEST_DATABASE_URL = saved;
});

await import('./fixtures/welcome.flow.spec.ts');
