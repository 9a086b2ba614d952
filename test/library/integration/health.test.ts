/**
 * The health check (PgflowHealth) and its @nestjs/terminus indicator in a real application: up with
 * its details; down within one check for each cause (the database unreachable, the worker stopped,
 * its heartbeat 2 intervals late, a served flow's oldest visible message too old, stalled tasks),
 * and up again after recovery.
 */
import { Inject } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Flow, InvalidOptionsError, PgflowHealth, PgflowWorker, Step } from 'nestjs-pgflow';
import { PgflowHealthIndicator } from 'nestjs-pgflow/health';
import type pg from 'pg';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type CuttableRelay, cuttableRelay } from '../fixtures/cuttable-relay.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';
import { Gate } from '../fixtures/recorders.ts';

const GATE = 'HEALTH_TEST_GATE';

/** Its handler waits for the test's gate. */
@Flow({ slug: 'health_gated', maxAttempts: 1 })
class GatedFlow {
  constructor(@Inject(GATE) private readonly gate: { current: Gate }) {}

  @Step()
  async hold() {
    await this.gate.current.opened;
    return 'done';
  }
}

const db = useTestDatabase();
const apps = useApps();
const gate = { current: new Gate() };
let relay: CuttableRelay | undefined;
let locker: pg.Client | undefined;

beforeEach(() => {
  gate.current = new Gate();
});

afterEach(async () => {
  gate.current.open();
  await locker?.query('rollback').catch(() => {});
  await locker?.end();
  locker = undefined;
  await apps.closeAll();
  await relay?.close();
  relay = undefined;
});

function startApp(options: { url?: string; maxConcurrent?: number } = {}): Promise<TestApp> {
  return apps.start({
    url: options.url ?? db.url,
    imports: [TerminusModule.forRoot()],
    providers: [GatedFlow, { provide: GATE, useValue: gate }, PgflowHealthIndicator],
    pgflow: { worker: { maxConcurrent: options.maxConcurrent ?? 10 } },
  });
}

/** A connection of the test that holds row locks in an open transaction. */
async function lockRows(statement: string, values: unknown[] = []): Promise<void> {
  locker = await db.connect('pgflow health test locker');
  await locker.query('begin');
  await locker.query(statement, values);
}

async function unlockRows(): Promise<void> {
  await locker?.query('rollback');
}

describe('PgflowHealthIndicator', () => {
  it('is up with the worker state, heartbeat age, queue ages and stalled tasks as details', async () => {
    const { app } = await startApp();
    const result = await app.get(PgflowHealthIndicator).isHealthy('pgflow', { maxQueueAgeSeconds: 60 });
    expect(result).toEqual({
      pgflow: {
        status: 'up',
        database: 'up',
        worker: { state: 'running', heartbeatAgeSeconds: expect.any(Number), heartbeatIntervalSeconds: 0.25 },
        queues: { health_gated: null },
        stalledTasks: 0,
      },
    });
  });

  it('is down within one check when the database is unreachable, and up again once it is back', async () => {
    relay = await cuttableRelay(db.url);
    const { app } = await startApp({ url: relay.url });
    const indicator = app.get(PgflowHealthIndicator);
    expect((await indicator.isHealthy('db_check')).db_check.status).toBe('up');

    relay.cut();
    const down = await indicator.isHealthy('db_check', { timeoutMs: 1_000 });
    expect(down.db_check).toMatchObject({
      status: 'down',
      database: 'down',
      message: expect.stringContaining('The database did not answer'),
    });

    relay.restore();
    await waitFor(async () => (await indicator.isHealthy('db_check')).db_check.status === 'up', {
      timeoutMs: 20_000,
      description: 'the check to be up again after the database came back',
    });
  });

  it("is down within one check when the worker's heartbeat is 2 intervals late, and up again once it beats", async () => {
    const { app } = await startApp();
    const indicator = app.get(PgflowHealthIndicator);
    const worker = app.get(PgflowWorker);
    // The worker's heartbeat updates its row: a lock on the row holds the heartbeat back.
    await lockRows('select 1 from pgflow.workers where worker_id = any($1::uuid[]) for update', [
      [...worker.workerIds],
    ]);
    await waitFor(
      async () => {
        const [row] = await db.query<{ age: number }>(
          `select extract(epoch from clock_timestamp() - min(last_heartbeat_at))::float8 as age
             from pgflow.workers where worker_id = any($1::uuid[])`,
          [[...worker.workerIds]],
        );
        return (row?.age ?? 0) > 2 * 0.25 + 0.1;
      },
      { timeoutMs: 10_000, description: 'the heartbeat to be more than 2 intervals late' },
    );
    const down = await indicator.isHealthy();
    expect(down.pgflow).toMatchObject({
      status: 'down',
      worker: { state: 'running', heartbeatAgeSeconds: expect.any(Number) },
      message: expect.stringContaining('more than 2 heartbeat intervals'),
    });
    expect(down.pgflow.worker.heartbeatAgeSeconds).toBeGreaterThan(0.5);

    await unlockRows();
    await waitFor(async () => (await indicator.isHealthy()).pgflow.status === 'up', {
      timeoutMs: 10_000,
      description: 'the check to be up again once the heartbeat went through',
    });
  });

  it('is down when the worker has stopped', async () => {
    const { app } = await startApp();
    await app.get(PgflowWorker).stop();
    const down = await app.get(PgflowHealthIndicator).isHealthy();
    expect(down.pgflow).toMatchObject({
      status: 'down',
      worker: { state: 'stopped' },
      message: 'The worker is stopped, not running.',
    });
  });

  it("is down within one check when a served flow's oldest visible message is older than maxQueueAgeSeconds, and up again once it is taken", async () => {
    // One slot, taken by a held task: the second run's message stays visible in the queue.
    const { app, client } = await startApp({ maxConcurrent: 1 });
    const indicator = app.get(PgflowHealthIndicator);
    const first = await client.start(GatedFlow, {});
    await waitFor(
      async () =>
        (await db.query("select 1 from pgflow.step_tasks where run_id = $1 and status = 'started'", [first.runId]))
          .length > 0,
      { description: 'the first run to take the only slot' },
    );
    const second = await client.start(GatedFlow, {});
    await waitFor(
      async () => {
        const [row] = await db.query<{ age: number | null }>(
          `select extract(epoch from clock_timestamp() - min(enqueued_at))::float8 as age
             from pgmq.q_health_gated where vt <= clock_timestamp()`,
        );
        return (row?.age ?? 0) > 0.6;
      },
      { description: 'the waiting message to be older than the limit' },
    );
    const down = await indicator.isHealthy('pgflow', { maxQueueAgeSeconds: 0.5 });
    expect(down.pgflow).toMatchObject({
      status: 'down',
      message: expect.stringContaining("The oldest visible message of flow 'health_gated'"),
    });
    expect(down.pgflow.queues.health_gated).toBeGreaterThan(0.5);

    gate.current.open();
    await second.wait({ timeoutMs: 20_000 });
    expect((await indicator.isHealthy('pgflow', { maxQueueAgeSeconds: 0.5 })).pgflow).toMatchObject({
      status: 'up',
      queues: { health_gated: null },
    });
  });

  it('is down within one check when stalled tasks exceed maxStalledTasks, and up again once they are requeued', async () => {
    const { app, client } = await startApp();
    const indicator = app.get(PgflowHealthIndicator);
    const run = await client.start(GatedFlow, {});
    await waitFor(
      async () =>
        (await db.query("select 1 from pgflow.step_tasks where run_id = $1 and status = 'started'", [run.runId]))
          .length > 0,
      { description: 'the task to start' },
    );
    // Started long ago: stalled. The run's lock keeps the workers' sweep (skip locked) from requeueing it.
    await lockRows('select 1 from pgflow.runs where run_id = $1 for update', [run.runId]);
    await db.query("update pgflow.step_tasks set started_at = now() - interval '1 hour' where run_id = $1", [
      run.runId,
    ]);
    const down = await indicator.isHealthy('pgflow', { maxStalledTasks: 0 });
    expect(down.pgflow).toMatchObject({
      status: 'down',
      stalledTasks: 1,
      message: '1 task(s) are stalled (maxStalledTasks: 0).',
    });

    await unlockRows();
    await waitFor(async () => (await indicator.isHealthy('pgflow', { maxStalledTasks: 0 })).pgflow.status === 'up', {
      timeoutMs: 10_000,
      description: 'the sweep to requeue the stalled task',
    });
  });
});

describe('PgflowHealth', () => {
  it('refuses a bad option naming the value, and checks nothing', async () => {
    const { app } = await startApp();
    await expect(app.get(PgflowHealth).check({ maxStalledTasks: -1 })).rejects.toThrow(
      new InvalidOptionsError('maxStalledTasks', -1, 'an integer, 0 or more', { subject: 'health check option' }),
    );
    await expect(app.get(PgflowHealth).check({ maxQueueAgeSeconds: Number.NaN })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
  });

  it('reports a process whose worker is disabled as healthy when its database answers', async () => {
    const { app } = await apps.start({
      url: db.url,
      providers: [GatedFlow, { provide: GATE, useValue: gate }],
      pgflow: { worker: { enabled: false } },
    });
    expect(await app.get(PgflowHealth).check()).toMatchObject({
      healthy: true,
      worker: { state: 'disabled', heartbeatAgeSeconds: null },
      queues: {},
    });
  });
});
