/**
 * What the module's migrations grant: no role is created, no default privilege is set (the pgmq
 * extension brings two of its own), PUBLIC gets no privilege on schemas pgflow and pgmq nor on any
 * of their tables or sequences, and no pgflow or fallback function is executable by PUBLIC; a role
 * nobody granted anything reaches nothing. Every function of pgflow and of the fallback sets
 * search_path to ''; every function of the pgmq extension gets a fixed search_path from the
 * migrations; none is SECURITY DEFINER. Each queue layer the server can give a database is checked.
 */
import { DataSource } from 'typeorm';
import { pgflowMigrations } from '../../../migrations/index.ts';
import type { PgmqImplementation } from '../../../migrations/queue-layer/detect.ts';
import { createEmptyDatabase } from '../../queue/support/empty-database.ts';
import { withPgmqMode } from '../../queue/support/migrate-queue-layer.ts';
import { createEmptyDatabaseOffering, createLayerDatabase, pgmqServer } from '../../queue/support/pgmq-server.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { sqlErrorOf } from '../support/no-writes.ts';
import { TEST_ROLE_PREFIX, useRole } from '../support/roles.ts';

const server = await pgmqServer();
const db = useTestDatabase();
const nobody = useRole(db, 'nobody');

/** The test run's database when it has `layer`, else a database of its own with it. */
async function databaseWith(layer: PgmqImplementation): Promise<Pick<typeof db, 'query'>> {
  return layer === server.implementation ? db : createLayerDatabase(layer);
}

/**
 * The default privileges pgmq 1.5.1's install script sets for the role that creates the extension:
 * SELECT on the tables and sequences later created in schema pgmq (each queue's), for pg_monitor.
 */
const EXTENSION_DEFAULT_PRIVILEGES = [
  { schema: 'pgmq', objects: 'S', acl: ['pg_monitor=r/'] },
  { schema: 'pgmq', objects: 'r', acl: ['pg_monitor=r/'] },
];

/** Roles of the cluster, except those the reliability tests create (other files may be running). */
async function roles(): Promise<string[]> {
  const rows = await db.query<{ rolname: string }>(
    'select rolname from pg_roles where rolname not like $1 order by 1',
    [`${TEST_ROLE_PREFIX}%`],
  );
  return rows.map((row) => row.rolname);
}

describe.each(server.layers)('migrating a fresh database with the %s', (layer) => {
  it('creates no role and sets no default privilege (the extension sets its own two, for pg_monitor)', async () => {
    const fresh = layer === 'extension' ? await createEmptyDatabaseOffering(true) : await createEmptyDatabase();
    const before = await roles();
    await withPgmqMode(layer, async () => {
      const dataSource = new DataSource({ type: 'postgres', url: fresh.url, migrations: [...pgflowMigrations] });
      await dataSource.initialize();
      try {
        await dataSource.runMigrations({ transaction: 'each' });
        const defaults = await dataSource.query(
          `select defaclnamespace::regnamespace::text as schema, defaclobjtype::text as objects,
                  array(select regexp_replace(a::text, '/.*$', '/') from unnest(defaclacl) a order by 1) as acl
             from pg_default_acl`,
        );
        const sorted = [...defaults].sort((a, b) => (a.objects < b.objects ? -1 : 1));
        expect(sorted).toEqual(layer === 'extension' ? EXTENSION_DEFAULT_PRIVILEGES : []);
      } finally {
        await dataSource.destroy();
      }
    });
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
    const fallback = await databaseWith('fallback');
    const executable = await fallback.query(
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

/** The functions of `schemas` (or of the pgmq extension), with their settings. */
async function functionsOf(
  database: Pick<typeof db, 'query'>,
  where: string,
): Promise<Array<{ fn: string; config: string[] | null; definer: boolean }>> {
  return database.query(
    `select p.oid::regprocedure::text as fn, p.proconfig as config, p.prosecdef as definer
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where ${where}`,
  );
}

describe('the functions of pgflow and pgmq', () => {
  it("every pgflow function and every function of the fallback sets search_path to '', none is SECURITY DEFINER", async () => {
    const engine = await functionsOf(db, "n.nspname = 'pgflow'");
    const fallback = await functionsOf(await databaseWith('fallback'), "n.nspname = 'pgmq'");
    expect(engine.length).toBeGreaterThan(50);
    expect(fallback.length).toBeGreaterThan(20);
    const unsafe = [...engine, ...fallback].filter((f) => f.definer || !(f.config ?? []).includes('search_path=""'));
    expect(unsafe).toEqual([]);
  });

  if (!server.layers.includes('extension')) return;
  it("every function of the pgmq extension gets search_path 'pg_catalog, pgmq, pg_temp' from the migrations, none is SECURITY DEFINER", async () => {
    const extension = await functionsOf(
      await databaseWith('extension'),
      `p.oid in (select d.objid from pg_depend d join pg_extension e on e.oid = d.refobjid
                    where e.extname = 'pgmq' and d.deptype = 'e' and d.classid = 'pg_proc'::regclass)`,
    );
    // pgmq 1.5.1 sets none itself: the functions would run with their caller's search_path.
    expect(extension.length).toBeGreaterThan(30);
    const unpinned = extension.filter(
      (f) => f.definer || JSON.stringify(f.config) !== JSON.stringify(['search_path=pg_catalog, pgmq, pg_temp']),
    );
    expect(unpinned).toEqual([]);
  });
});
