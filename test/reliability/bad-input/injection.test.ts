/**
 * SQL injection through every string the API accepts ends as data or as a validation error, never
 * as SQL: input keys and values, handler error messages, run ids, condition patterns, worker.flows,
 * queue names and slugs given to the engine's functions. A canary table that every attempt tries to
 * drop is still there at the end, and so is everything of the engine. (Slugs in @Flow/@Step and
 * FlowClient.start are covered with the other invalid slugs in slugs.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { Flow, FlowNotFoundError, InvalidOptionsError, RunFailedError, Step } from 'nestjs-pgflow';
import { type TestApp, TestApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { refusedWithoutWrites, sqlErrorOf } from '../support/no-writes.ts';

const ATTACKS: ReadonlyArray<readonly [string]> = [
  ["'); drop table public.canary; --"],
  ["x'; delete from pgflow.runs; --"],
  ['"; drop schema pgflow cascade; --'],
  ['$$; drop table public.canary; $$'],
  ["\\'; drop table public.canary; --"],
  ['1); select pg_sleep(5); --'],
  ['%I %L %s %1$s'],
  ["E'\\x27'; drop table public.canary; --"],
];

@Flow({ slug: 'rel_inject_echo' })
class EchoFlow {
  @Step()
  echo(input: Record<string, unknown>) {
    return input;
  }
}

@Flow({ slug: 'rel_inject_fail', maxAttempts: 1 })
class FailFlow {
  @Step()
  explode(input: { message: string }): never {
    throw new Error(input.message);
  }
}

@Flow({ slug: 'rel_inject_condition' })
class ConditionFlow {
  @Step({ if: { "k'); drop table public.canary; --": "v'; --" } })
  guarded() {
    return 'ran';
  }
}

const db = useTestDatabase();
const apps = new TestApps();
let app: TestApp;

beforeAll(async () => {
  await db.query('create table public.canary (id int)');
  app = await apps.start({ url: db.url, providers: [EchoFlow, FailFlow, ConditionFlow] });
});

afterAll(async () => {
  await apps.closeAll();
  const [survivors] = await db.query(
    `select to_regclass('public.canary') is not null as canary, to_regclass('pgflow.runs') is not null as runs,
            to_regnamespace('pgflow') is not null as schema`,
  );
  expect(survivors).toEqual({ canary: true, runs: true, schema: true });
});

describe('injection attempts end as data', () => {
  it.each(ATTACKS)('input keys and values %j are stored and handed to the handler verbatim', async (attack) => {
    const input = { [attack]: attack, nested: { list: [attack, { [attack]: [attack] }] } };
    const run = await app.client.start(EchoFlow, input);

    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ echo: input });
    const [row] = await db.query('select input = $2::jsonb as same from pgflow.runs where run_id = $1', [
      run.runId,
      JSON.stringify(input),
    ]);
    expect(row).toEqual({ same: true });
  });

  it.each(ATTACKS)('a handler error %j is stored verbatim and reported verbatim by wait()', async (attack) => {
    const run = await app.client.start(FailFlow, { message: attack });

    const failure = await run.wait({ timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as RunFailedError).errorMessage).toBe(attack);
    const rows = await db.query(
      `select t.error_message as task, s.error_message as step
         from pgflow.step_tasks t join pgflow.step_states s using (run_id, step_slug) where t.run_id = $1`,
      [run.runId],
    );
    expect(rows).toEqual([{ task: attack, step: attack }]);
  });

  it.each(ATTACKS)('an error message %j given to fail_task is stored verbatim', async (attack) => {
    await db.query("select pgflow.create_flow('rel_inject_sql', max_attempts => 1)");
    await db.query("select pgflow.add_step('rel_inject_sql', 'only')");
    const [run] = await db.query<{ run_id: string }>("select run_id from pgflow.start_flow('rel_inject_sql', '{}')");
    const [worker] = await db.query<{ id: string }>(
      "insert into pgflow.workers (worker_id, queue_name, function_name) values (gen_random_uuid(), 'rel_inject_sql', 'test') returning worker_id as id",
    );
    await db.query("select * from pgflow._claim_tasks('rel_inject_sql', 1, 30, $1)", [worker?.id]);

    await db.query("select pgflow.fail_task($1, 'only', 0, $2)", [run?.run_id, attack]);
    expect(await db.query('select error_message from pgflow.step_states where run_id = $1', [run?.run_id])).toEqual([
      { error_message: attack },
    ]);
  });

  it('condition pattern keys and values are compared as JSON', async () => {
    const matching = await app.client.start(ConditionFlow, { "k'); drop table public.canary; --": "v'; --" });
    const other = await app.client.start(ConditionFlow, { k: 'v' });

    expect((await matching.wait({ timeoutMs: 10_000 })).output).toEqual({ guarded: 'ran' });
    expect((await other.wait({ timeoutMs: 10_000 })).output).toEqual({});
  });
});

describe('injection attempts end as validation errors', () => {
  it.each(ATTACKS)('run id %j: InvalidOptionsError from start, wait and getRun, nothing written', async (attack) => {
    for (const call of [
      () => app.client.start(EchoFlow, {}, { runId: attack }),
      () => app.client.wait(attack),
      () => app.client.getRun(attack),
    ]) {
      expect(await refusedWithoutWrites(db, call)).toBeInstanceOf(InvalidOptionsError);
    }
  });

  it.each(ATTACKS)('run id %j in pgflow.start_flow: invalid uuid (22P02), nothing written', async (attack) => {
    const error = await refusedWithoutWrites(db, () =>
      db.query("select pgflow.start_flow('rel_inject_echo', '{}', $1::uuid)", [attack]),
    );
    expect(sqlErrorOf(error).code).toBe('22P02');
  });

  it.each(ATTACKS)('flow slug %j in worker.flows stops the boot with FlowNotFoundError', async (attack) => {
    const refused = new TestApps();
    const error = await refusedWithoutWrites(db, () =>
      refused.start({ url: db.url, providers: [EchoFlow], pgflow: { worker: { flows: [attack] } } }),
    ).finally(() => refused.closeAll());
    expect(error).toBeInstanceOf(FlowNotFoundError);
  });

  it.each(ATTACKS)('queue name %j in the pgmq functions is refused', async (attack) => {
    for (const statement of [
      "select pgmq.send($1, '{}')",
      'select pgmq.read($1, 30, 1)',
      'select pgmq.create($1)',
      'select pgmq.purge_queue($1)',
    ]) {
      const error = await refusedWithoutWrites(db, () => db.query(statement, [attack]));
      expect(['P0001', '42P01', '42602']).toContain(sqlErrorOf(error).code);
    }
  });

  it.each(ATTACKS)('slug %j in the engine functions is refused as an invalid or unknown slug', async (attack) => {
    const shape = JSON.stringify({ steps: [{ slug: 'a', stepType: 'single', dependencies: [] }] });
    const cases: ReadonlyArray<readonly [string, unknown[], string]> = [
      ['select pgflow.create_flow($1)', [attack], 'PF001'],
      ['select pgflow.ensure_flow_compiled($1, $2::jsonb)', [attack, shape], 'PF001'],
      ["select pgflow.add_step('rel_inject_echo', $1)", [attack], 'PF001'],
      ["select pgflow.start_flow($1, '{}')", [attack], 'PF002'],
      ["select pgflow.complete_task($1, $2, 0, '1')", [randomUUID(), attack], 'PF009'],
    ];
    for (const [statement, params, code] of cases) {
      const error = await refusedWithoutWrites(db, () => db.query(statement, params));
      expect(sqlErrorOf(error).code).toBe(code);
    }
    // Deleting a flow that does not exist deletes nothing.
    const before = await db.query('select count(*)::int as n from pgflow.runs');
    await db.query('select pgflow.delete_flow_and_data($1)', [attack]);
    expect(await db.query('select count(*)::int as n from pgflow.runs')).toEqual(before);
  });
});
