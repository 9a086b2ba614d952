/**
 * FlowClient.start: by class or slug, a caller-chosen run id, inside the caller's transaction, and
 * the errors for what cannot start (unknown flow, input that is not JSON, a run id already used).
 * A refused start leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import {
  Flow,
  FlowNotFoundError,
  InvalidRunInputError,
  PgflowError,
  RunAlreadyExistsError,
  RunNotFoundError,
  Step,
  type StepContext,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

@Flow({ slug: 'start_echo', maxAttempts: 1 })
class EchoFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  echo(input: unknown, ctx: StepContext) {
    this.log.record(input, ctx);
    return input;
  }
}

/** A flow class that is never registered as a provider. */
@Flow({ slug: 'start_unregistered' })
class UnregisteredFlow {
  @Step()
  only() {
    return 1;
  }
}

class Rollback extends Error {}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({ url: db.url, providers: [CallLog, EchoFlow] });
}

async function runCount(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "select count(*)::int as n from pgflow.runs where flow_slug = 'start_echo'",
  );
  return row?.n ?? 0;
}

async function queuedMessages(): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgmq.q_start_echo');
  return row?.n ?? 0;
}

function cyclic(): unknown {
  const node: { self?: unknown } = {};
  node.self = node;
  return node;
}

describe('FlowClient.start', () => {
  it('uses the run id the caller chose', async () => {
    const { client } = await startApp();
    const runId = randomUUID();
    const run = await client.start(EchoFlow, { hello: 'world' }, { runId });

    expect(run.runId).toBe(runId);
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      runId,
      output: { echo: { hello: 'world' } },
    });
  });

  it('stores the input as JSON: a Date becomes its ISO string, undefined properties disappear', async () => {
    const { client } = await startApp();
    const at = new Date('2024-05-06T07:08:09.000Z');
    const run = await client.start(EchoFlow, { at, gone: undefined, list: [1, 'two', null] });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.input).toEqual({ at: '2024-05-06T07:08:09.000Z', list: [1, 'two', null] });
    expect(done.output).toEqual({ echo: done.input });
  });

  it('fails with FlowNotFoundError for an unknown slug, listing the known flows', async () => {
    const { client } = await startApp();
    const error = await client.start('no_such_flow', {}).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error).toMatchObject({ code: 'PGFLOW_FLOW_NOT_FOUND', flow: 'no_such_flow', reference: 'slug' });
    expect((error as Error).message).toMatch(/'start_echo'/);
  });

  it('fails with FlowNotFoundError for a @Flow() class that is not a provider of the application', async () => {
    const { client } = await startApp();
    const error = await client.start(UnregisteredFlow, {}).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error).toMatchObject({ flow: 'UnregisteredFlow', reference: 'class' });
    expect(await db.query("select 1 from pgflow.runs where flow_slug = 'start_unregistered'")).toEqual([]);
  });

  const notJson: Array<[string, unknown, RegExp]> = [
    ['undefined', undefined, /undefined/],
    ['a function', () => 1, /function/],
    ['a BigInt', { amount: 12n }, /BigInt/],
    ['a cycle', cyclic(), /circular/],
    ['NaN', { price: Number.NaN }, /NaN/],
  ];

  it.each(notJson)('refuses %s as input with InvalidRunInputError, starting nothing', async (_name, input, reason) => {
    const { client } = await startApp();
    const before = await runCount();
    const error = await client.start(EchoFlow, input).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidRunInputError);
    expect(error).toMatchObject({ code: 'PGFLOW_INVALID_INPUT', flowSlug: 'start_echo' });
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).toMatch(/No run was started/);
    expect(await runCount()).toBe(before);
  });

  it('fails with RunAlreadyExistsError for a run id that exists, leaving the first run alone', async () => {
    const { client } = await startApp();
    const runId = randomUUID();
    const first = await client.start(EchoFlow, { first: true }, { runId });
    await first.wait({ timeoutMs: 10_000 });

    const error = await client.start(EchoFlow, { second: true }, { runId }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunAlreadyExistsError);
    expect(error).toBeInstanceOf(PgflowError);
    expect(error).toMatchObject({ code: 'PGFLOW_RUN_EXISTS', runId });
    expect((error as Error).message).toContain(runId);
    expect(await client.getRun(runId)).toMatchObject({ status: 'completed', input: { first: true } });
  });

  it('a run started in a transaction that rolls back does not exist, and no handler runs', async () => {
    const { app, client, dataSource } = await startApp();
    const before = { runs: await runCount(), messages: await queuedMessages() };
    let runId: string | undefined;

    const outcome = dataSource()
      .transaction(async (manager) => {
        const run = await client.start(EchoFlow, { in: 'rolled back' }, { manager });
        runId = run.runId;
        throw new Rollback('undo');
      })
      .catch((caught: unknown) => caught);
    expect(await outcome).toBeInstanceOf(Rollback);

    expect(runId).toBeDefined();
    await expect(client.getRun(runId as string)).rejects.toBeInstanceOf(RunNotFoundError);
    expect(await runCount()).toBe(before.runs);
    expect(await queuedMessages()).toBe(before.messages);
    expect(await db.query('select 1 from pgflow.step_states where run_id = $1', [runId])).toEqual([]);
    // A worker that polls a few times more still finds nothing of the rolled-back run.
    const probe = await client.start(EchoFlow, { probe: true });
    await probe.wait({ timeoutMs: 10_000 });
    expect(app.get(CallLog).calls.filter((call) => call.runId === runId)).toEqual([]);
  });

  it('a run started in a transaction is invisible to others until the transaction commits, then runs', async () => {
    const { client, dataSource } = await startApp();
    let seenInside: unknown[] | undefined;

    const runId = await dataSource().transaction(async (manager) => {
      const run = await client.start(EchoFlow, { in: 'committed' }, { manager });
      const inside = await manager.query('select status from pgflow.runs where run_id = $1', [run.runId]);
      expect(inside).toEqual([{ status: 'started' }]);
      seenInside = await db.query('select 1 from pgflow.runs where run_id = $1', [run.runId]);
      return run.runId;
    });

    expect(seenInside).toEqual([]);
    const done = await client.wait(runId, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ runId, status: 'completed', output: { echo: { in: 'committed' } } });
  });

  it('refuses a run id that exists with RunAlreadyExistsError inside a transaction too', async () => {
    const { client, dataSource } = await startApp();
    const runId = randomUUID();
    await (await client.start(EchoFlow, {}, { runId })).wait({ timeoutMs: 10_000 });

    const outcome = await dataSource()
      .transaction(async (manager) => client.start(EchoFlow, {}, { runId, manager }))
      .catch((caught: unknown) => caught);
    expect(outcome).toBeInstanceOf(RunAlreadyExistsError);
  });
});
