/**
 * What the module's migrations grant: no role is created, no default privilege is set, PUBLIC gets
 * no privilege on schemas pgflow and pgmq nor on any of their tables or sequences, and no pgflow
 * function is executable by PUBLIC; a role nobody granted anything reaches nothing. Every function
 * of both schemas sets its own search_path and runs with its caller's rights.
 */
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../../migrations/index.ts';
import { createEmptyDatabase } from '../../queue/support/empty-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { sqlErrorOf } from '../support/no-writes.ts';
import { TEST_ROLE_PREFIX, useRole } from '../support/roles.ts';

const db = useTestDatabase();
const nobody = useRole(db, 'nobody');

/** Roles of the cluster, except those the reliability tests create (other files may be running). */
async function roles(): Promise<string[]> {
  const rows = await db.query<{ rolname: string }>(
    'select rolname from pg_roles where rolname not like $1 order by 1',
    [`${TEST_ROLE_PREFIX}%`],
  );
  return rows.map((row) => row.rolname);
}

describe('migrating a fresh database', () => {
  it('creates no role and sets no default privilege', async () => {
    const fresh = await createEmptyDatabase();
    const before = await roles();
    const dataSource = new DataSource({ type: 'postgres', url: fresh.url, migrations: [...pgflowMigrations] });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
      expect(await dataSource.query('select count(*)::int as n from pg_default_acl')).toEqual([{ n: 0 }]);
    } finally {
      await dataSource.destroy();
    }
    expect(await roles()).toEqual(before);
  });
});

describe('what PUBLIC gets on a migrated database', () => {
  it('no USAGE or CREATE on schemas pgflow and pgmq', async () => {
    const rows = await db.query(
      `select s as schema, has_schema_privilege('public', s, 'USAGE') as usage, has_schema_privilege('public', s, 'CREATE') as create
         from unnest(array['pgflow', 'pgmq']) s`,
    );
    expect(rows).toEqual([
      { schema: 'pgflow', usage: false, create: false },
      { schema: 'pgmq', usage: false, create: false },
    ]);
  });

  it('no privilege on any table, view or sequence of pgflow and pgmq', async () => {
    const granted = await db.query(
      `select n.nspname || '.' || c.relname as relation, a.privilege_type
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        cross join aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        where n.nspname in ('pgflow', 'pgmq') and c.relkind in ('r', 'p', 'v', 'm', 'S') and a.grantee = 0`,
    );
    expect(granted).toEqual([]);
    const tables = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('pgflow', 'pgmq') and c.relkind = 'r'",
    );
    expect(tables[0]?.n).toBeGreaterThan(5);
  });

  it('no pgflow function is executable by PUBLIC', async () => {
    const executable = await db.query(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'pgflow'::regnamespace and has_function_privilege('public', p.oid, 'EXECUTE')`,
    );
    expect(executable).toEqual([]);
  });

  it('no function of the queue-layer fallback is executable by PUBLIC', async () => {
    const [layer] = await db.query<{ extension: boolean }>(
      "select exists (select 1 from pg_extension where extname = 'pgmq') as extension",
    );
    // The pgmq extension's functions are the extension's own business; the fallback is ours.
    if (layer?.extension) return;
    const executable = await db.query(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'pgmq'::regnamespace and has_function_privilege('public', p.oid, 'EXECUTE')`,
    );
    expect(executable).toEqual([]);
  });

  it('a role granted nothing can call no engine or queue function and read no table', async () => {
    const client = await nobody.connect();
    for (const statement of [
      "select pgflow.start_flow('any', '{}')",
      "select pgflow.is_valid_slug('x')",
      "select pgmq.send('any', '{}')",
      'select pgmq.list_queues()',
      'select * from pgflow.runs',
      'select * from pgmq.meta',
    ]) {
      const error = await client.query(statement).then(
        () => new Error(`${statement} was allowed`),
        (thrown: unknown) => thrown,
      );
      expect({ statement, ...sqlErrorOf(error) }).toMatchObject({
        statement,
        code: '42501',
        message: expect.stringMatching(/^permission denied for schema (pgflow|pgmq)$/),
      });
    }
  });
});

describe('the functions of pgflow and pgmq', () => {
  it("every one sets search_path to '' and none is SECURITY DEFINER", async () => {
    const functions = await db.query<{ fn: string; config: string[] | null; definer: boolean }>(
      `select p.oid::regprocedure::text as fn, p.proconfig as config, p.prosecdef as definer
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('pgflow', 'pgmq')`,
    );
    expect(functions.length).toBeGreaterThan(50);
    const unsafe = functions.filter((f) => f.definer || !(f.config ?? []).includes('search_path=""'));
    expect(unsafe).toEqual([]);
  });
});
