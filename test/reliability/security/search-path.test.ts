/**
 * The search_path attack of support/planted-objects.ts, on every queue layer the server can give a
 * database: the fallback, the pgmq extension as migrated (its functions pinned to a fixed
 * search_path), and the extension with its functions unpinned (a migrating role that did not own
 * them, or an ALTER EXTENSION pgmq UPDATE since). Sessions that put public before pg_catalog drive
 * runs through every entry point of the engine, the planting role starts a run, a Nest worker and
 * client run a flow on connections that put public first, and every pgmq function is called
 * directly. Nothing planted runs, except in direct calls to unpinned pgmq functions: that is the
 * hole the pin closes, shown here so that the test would see it come back.
 */
import { TypeOrmModule } from '@nestjs/typeorm';
import { Flow, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';
import pg from 'pg';
import { PgmqSearchPath1796408033597 } from '../../../migrations/1796408033597-pgmq-search-path.ts';
import type { PgmqImplementation } from '../../../migrations/queue-layer/detect.ts';
import { withDatabase } from '../../../tools/local-postgres.ts';
import { useApps } from '../../library/fixtures/pgflow-app.ts';
import { createLayerDatabase, pgmqServer } from '../../queue/support/pgmq-server.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { evilCalls, HOSTILE_PATH, type PlantedDatabase, plant } from '../support/planted-objects.ts';
import { useRole } from '../support/roles.ts';

@Flow({ slug: 'rel_sp_nest', maxAttempts: 2, baseDelay: 0 })
class NestFlow {
  @Step({ if: { go: true } })
  list(input: { go: boolean; n: number }) {
    return Array.from({ length: input.n }, (_, index) => index);
  }

  @Step({ dependsOn: ['list'], map: true })
  square(item: number, _ctx: MapStepContext) {
    return item * item;
  }

  @Step({ dependsOn: ['square'] })
  sum(deps: StepInput<NestFlow, 'square'>) {
    return deps.square.reduce((total, value) => total + value, 0);
  }
}

const SHAPE = {
  options: { maxAttempts: 2, baseDelay: 0, timeout: 60 },
  steps: [
    { slug: 'list', stepType: 'single', dependencies: [], requiredInputPattern: { go: true } },
    { slug: 'square', stepType: 'map', dependencies: ['list'] },
    { slug: 'sum', stepType: 'single', dependencies: ['square'] },
  ],
};
const WORKER_ID = '00000000-0000-4000-8000-0000000005e7';

/**
 * Every function of pgmq's API, called directly. The statements name no built-in themselves (only
 * literals, schema-qualified types and pgmq's functions), so whatever planted object runs, pgmq's
 * own body ran it.
 */
const DIRECT_PGMQ_CALLS = [
  "select pgmq.create('direct_q')",
  "select pgmq.create_unlogged('direct_u')",
  "select pgmq.validate_queue_name('direct_q')",
  "select pgmq.format_table_name('direct_q', 'q')",
  `select pgmq.send('direct_q', '{"n": 1}'::pg_catalog.jsonb)`,
  `select pgmq.send('direct_q', '{"n": 2}'::pg_catalog.jsonb, 0)`,
  `select pgmq.send('direct_q', '{"n": 3}'::pg_catalog.jsonb, timestamp with time zone '2000-01-01')`,
  `select pgmq.send('direct_q', '{"n": 4}'::pg_catalog.jsonb, '{"h": 1}'::pg_catalog.jsonb)`,
  `select pgmq.send('direct_q', '{"n": 5}'::pg_catalog.jsonb, '{"h": 1}'::pg_catalog.jsonb, 0)`,
  `select pgmq.send('direct_q', '{"n": 6}'::pg_catalog.jsonb, '{"h": 1}'::pg_catalog.jsonb, timestamp with time zone '2000-01-01')`,
  `select pgmq.send_batch('direct_q', array['{"n": 7}']::pg_catalog.jsonb[])`,
  `select pgmq.send_batch('direct_q', array['{"n": 8}']::pg_catalog.jsonb[], 0)`,
  `select pgmq.send_batch('direct_q', array['{"n": 9}']::pg_catalog.jsonb[], timestamp with time zone '2000-01-01')`,
  `select pgmq.send_batch('direct_q', array['{"n": 10}']::pg_catalog.jsonb[], array['{"h": 1}']::pg_catalog.jsonb[])`,
  `select pgmq.send_batch('direct_q', array['{"n": 11}']::pg_catalog.jsonb[], array['{"h": 1}']::pg_catalog.jsonb[], 0)`,
  `select pgmq.send_batch('direct_q', array['{"n": 12}']::pg_catalog.jsonb[], array['{"h": 1}']::pg_catalog.jsonb[], timestamp with time zone '2000-01-01')`,
  "select * from pgmq.read('direct_q', 0, 2)",
  `select * from pgmq.read('direct_q', 0, 2, '{"n": 1}'::pg_catalog.jsonb)`,
  "select * from pgmq.read_with_poll('direct_q', 0, 1, 1, 10)",
  "select * from pgmq.pop('direct_q')",
  "select * from pgmq.set_vt('direct_q', 3, 0)",
  "select pgmq.archive('direct_q', 4::bigint)",
  "select pgmq.archive('direct_q', array[5, 6]::bigint[])",
  "select pgmq.delete('direct_q', 7::bigint)",
  "select pgmq.delete('direct_q', array[8]::bigint[])",
  "select * from pgmq.metrics('direct_q')",
  'select * from pgmq.metrics_all()',
  'select * from pgmq.list_queues()',
  "select pgmq.purge_queue('direct_q')",
  "select pgmq.detach_archive('direct_q')",
  "select pgmq.drop_queue('direct_u')",
];

interface Target {
  readonly label: string;
  readonly layer: PgmqImplementation;
  /** Whether pgmq's own functions have a fixed search_path (the fallback's always do). */
  readonly pinned: boolean;
}

const server = await pgmqServer();
const TARGETS: Target[] = server.layers.map((layer) => ({ label: `the ${layer}`, layer, pinned: true }));
if (server.layers.includes('extension')) {
  TARGETS.push({ label: 'the extension, its functions unpinned', layer: 'extension', pinned: false });
}

const template = useTestDatabase();
const apps = useApps();
const attacker = useRole(template, 'attacker');

interface ClaimedTask {
  readonly step_slug: string;
  readonly task_index: number;
  readonly input: unknown;
}

describe.each(TARGETS)('objects planted in public to shadow built-ins, on $label', (target) => {
  let db: PlantedDatabase;
  const sessions: pg.Client[] = [];

  /** A connection to the target database, as its owner or as `url`'s role, with public first. */
  async function hostileSession(url = db.url): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: url,
      application_name: 'pgflow test victim',
      options: `-c search_path=${HOSTILE_PATH}`,
    });
    client.on('error', () => {});
    await client.connect();
    sessions.push(client);
    return client;
  }

  beforeAll(async () => {
    db = target.layer === server.implementation && target.pinned ? template : await createLayerDatabase(target.layer);
    // The pin migration's own way back: what a role that does not own pgmq's functions leaves.
    if (!target.pinned)
      for (const statement of PgmqSearchPath1796408033597.sql.down.extension ?? []) await db.query(statement);
    await plant(db, attacker);
  });

  beforeEach(() => db.query('truncate public.evil_calls'));

  afterAll(async () => {
    for (const session of sessions.splice(0)) await session.end();
    // The role is dropped with the file; what it owns in this database goes first.
    if (db !== template) await db.query(`drop owned by ${attacker.name} cascade`);
  });

  /**
   * Claims and completes (or, once, fails) every visible task of the flow until the run ends. Only
   * engine functions run in the hostile session, with every type named with its schema.
   */
  async function driveRun(session: pg.Client, runId: string): Promise<void> {
    let failedOnce = false;
    for (let round = 0; round < 20; round += 1) {
      const { rows: tasks } = await session.query<ClaimedTask>(
        "select step_slug, task_index, input from pgflow._claim_tasks('rel_sp_sql', 100, 30, $1::pg_catalog.uuid)",
        [WORKER_ID],
      );
      if (tasks.length === 0) {
        const [run] = await db.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [runId]);
        if (run?.status !== 'started') return;
        continue;
      }
      const failures: ClaimedTask[] = failedOnce ? [] : tasks.filter((task) => task.step_slug === 'square').slice(0, 1);
      failedOnce ||= failures.length > 0;
      const report = (task: ClaimedTask, extra: object) => ({
        run_id: runId,
        step_slug: task.step_slug,
        task_index: task.task_index,
        ...extra,
      });
      const output = (task: ClaimedTask): unknown =>
        task.step_slug === 'list' ? [1, 2, 3] : task.step_slug === 'square' ? (task.input as number) ** 2 : 14;
      await session.query('select pgflow.fail_tasks($1::pg_catalog.jsonb)', [
        JSON.stringify(failures.map((t) => report(t, { error_message: 'retry me' }))),
      ]);
      await session.query('select pgflow.complete_tasks($1::pg_catalog.jsonb)', [
        JSON.stringify(tasks.filter((t) => !failures.includes(t)).map((t) => report(t, { output: output(t) }))),
      ]);
    }
    throw new Error(`Run ${runId} did not end.`);
  }

  it('do shadow built-ins for plain SQL in a session that puts public first (the attack is real)', async () => {
    const victim = await hostileSession();

    const { rows } = await victim.query(`select now() as now, 'a' = 'a' as same, '{}'::jsonb as doc`);
    expect(rows[0]).toEqual({ now: new Date('2000-01-01T00:00:00Z'), same: true, doc: {} });
    expect(await evilCalls(db)).toEqual(['::jsonb', 'now()', 'text = text']);
  });

  it('never run inside the engine: a run driven through every entry point from such a session', async () => {
    const victim = await hostileSession();
    await victim.query(
      "insert into pgflow.workers (worker_id, queue_name, function_name) values ($1::pg_catalog.uuid, 'rel_sp_sql', 'victim')",
      [WORKER_ID],
    );

    const shape = JSON.stringify(SHAPE);
    const compiled = await victim.query('select pgflow.ensure_flow_compiled($1, $2::pg_catalog.jsonb) as r', [
      'rel_sp_sql',
      shape,
    ]);
    expect(compiled.rows[0]?.r.status).toBe('compiled');
    await victim.query('select pgflow.ensure_flow_compiled($1, $2::pg_catalog.jsonb)', ['rel_sp_sql', shape]);
    const { rows } = await victim.query<{ run_id: string; started_at: Date }>(
      `select run_id, started_at from pgflow.start_flow('rel_sp_sql', '{"go": true}')`,
    );
    const runId = rows[0]?.run_id as string;
    await driveRun(victim, runId);
    await victim.query('select pgflow.requeue_stalled_tasks()');
    const snapshot = await victim.query('select pgflow.get_run_with_states($1) as s', [runId]);
    await victim.query(`select pgflow.start_flow_with_states('rel_sp_sql', '{"go": false}')`);
    await victim.query(`select pgflow.start_flows('rel_sp_sql', '[{"go": false}]')`);
    await victim.query('select pgflow.mark_worker_stopped($1::pg_catalog.uuid)', [WORKER_ID]);
    await victim.query("select pgflow.delete_flow_and_data('rel_sp_sql')");

    expect(await evilCalls(db)).toEqual([]);
    expect(snapshot.rows[0]?.s.run).toMatchObject({ status: 'completed', output: { sum: 14 } });
    expect(runId).not.toBe('00000000-0000-0000-0000-000000000666');
    expect(Date.now() - Number(rows[0]?.started_at)).toBeLessThan(3_600_000);
  });

  it('never run for the attacker either: start_flow called by the planting role with public first', async () => {
    await db.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', ['rel_sp_attacker', JSON.stringify(SHAPE)]);
    await db.query(`grant usage on schema pgflow, pgmq to ${attacker.name}`);
    await db.query(`grant select on all tables in schema pgflow to ${attacker.name}`);
    await db.query(`grant insert, update on pgflow.runs, pgflow.step_states, pgflow.step_tasks to ${attacker.name}`);
    await db.query(`grant select, insert on all tables in schema pgmq to ${attacker.name}`);
    await db.query(`grant execute on all functions in schema pgflow to ${attacker.name}`);
    await db.query(`grant execute on function pgmq.send_batch(text, jsonb[], integer) to ${attacker.name}`);
    const session = await hostileSession(withDatabase(attacker.url, db.name));

    await session.query(`select * from pgflow.start_flow('rel_sp_attacker', '{"go": true}')`);
    expect(await evilCalls(db)).toEqual([]);
  });

  it("never run in a Nest worker and client whose connections put public first (the library's statements)", async () => {
    const typeOrm = TypeOrmModule.forRoot({
      type: 'postgres',
      url: db.url,
      autoLoadEntities: true,
      retryAttempts: 0,
      extra: { options: `-c search_path=${HOSTILE_PATH}` },
    });
    const { client, dataSource } = await apps.start({ url: db.url, providers: [NestFlow], typeOrm });
    const [path] = await dataSource().query('show search_path');
    expect(path).toEqual({ search_path: HOSTILE_PATH });

    const run = await client.start(NestFlow, { go: true, n: 4 });
    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ sum: 14 });
    await client.getRun(run.runId);
    await client.startMany(NestFlow, [{ go: false, n: 0 }]);
    expect(await evilCalls(db)).toEqual([]);
  });

  if (target.pinned) {
    it('never run in direct calls to every pgmq function from such a session', async () => {
      const victim = await hostileSession();
      for (const call of DIRECT_PGMQ_CALLS) await victim.query(call);

      expect(await evilCalls(db)).toEqual([]);
    });
  } else {
    it('do run in direct calls to pgmq functions whose search_path is not pinned (the hole the pin closes)', async () => {
      const victim = await hostileSession();
      // Some calls fail too (a planted domain jsonb changes what pgmq's queries return); each failed
      // call's own planted calls roll back with it.
      const failed: string[] = [];
      for (const call of DIRECT_PGMQ_CALLS) await victim.query(call).catch(() => failed.push(call));

      // pgmq 1.5.1 calls clock_timestamp(), now(), lower(), ... unqualified, casts to jsonb and
      // compares with =: all of it resolves to the planted objects.
      expect(await evilCalls(db)).toEqual(
        expect.arrayContaining(['::jsonb', 'clock_timestamp()', 'lower()', 'now()', 'text = text']),
      );
      expect(failed.length).toBeLessThan(DIRECT_PGMQ_CALLS.length);
    });
  }
});
