/**
 * The worker service in a real Nest application: its row in pgflow.workers and heartbeats, the
 * flows it serves, its concurrency limit and slot refilling, and the requeueing of stalled tasks.
 */
import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import {
  Flow,
  FlowNotFoundError,
  type MapStepContext,
  RunFailedError,
  Step,
  type StepContext,
  type StepInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog, Gate } from '../fixtures/recorders.ts';

const GATE = 'WORKER_TEST_GATE';

@Flow({ slug: 'worker_served', maxAttempts: 1 })
class ServedFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  serve(input: unknown, ctx: StepContext) {
    this.log.record(input, ctx);
    return 'served';
  }
}

@Flow({ slug: 'worker_other', maxAttempts: 1 })
class OtherFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  other(input: unknown, ctx: StepContext) {
    this.log.record(input, ctx);
    return 'other';
  }
}

/** Item 0 waits for the gate; the others return at once. Tracks how many handlers run at once. */
@Flow({ slug: 'worker_slots', maxAttempts: 1 })
class SlotsFlow {
  running = 0;
  maxRunning = 0;

  constructor(
    private readonly log: CallLog,
    @Inject(GATE) private readonly gate: Gate,
  ) {}

  @Step({ map: true })
  async item(item: { hold: boolean }, ctx: MapStepContext) {
    this.log.record(item, ctx);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await (item.hold ? this.gate.opened : new Promise((resolve) => setTimeout(resolve, 20)));
      return ctx.taskIndex;
    } finally {
      this.running -= 1;
    }
  }
}

@Flow({ slug: 'worker_stalled', maxAttempts: 3, timeout: 1 })
class StalledFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  resume(input: unknown, ctx: StepContext) {
    this.log.record(input, ctx);
    return `resumed on attempt ${ctx.attempt}`;
  }
}

@Flow({ slug: 'worker_delayed', maxAttempts: 1 })
class DelayedFlow {
  @Step()
  now() {
    return Date.now();
  }

  @Step({ dependsOn: ['now'], startDelay: 1 })
  later(deps: StepInput<DelayedFlow, 'now'>) {
    return Date.now() - deps.now;
  }
}

/** Its only step starts 1 s after the run. */
@Flow({ slug: 'worker_delayed_start' })
class DelayedStartFlow {
  @Step({ startDelay: 1 })
  waited() {
    return Date.now();
  }
}

/** Fails its first attempt; the retry comes floor(baseDelay * 2^1) = 2 seconds later. */
@Flow({ slug: 'worker_retry_later', maxAttempts: 2, baseDelay: 1 })
class RetryLaterFlow {
  private failedAt = 0;

  @Step()
  async flaky(_input: unknown, ctx: StepContext) {
    if (ctx.attempt === 1) {
      // Some work first, as a real handler does: the worker polls again meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.failedAt = Date.now();
      throw new Error('first attempt fails');
    }
    return Date.now() - this.failedAt;
  }
}

const db = useTestDatabase();
const apps = useApps();
const gates: Gate[] = [];

afterEach(() => {
  for (const gate of gates.splice(0)) gate.open();
});

function startApp(worker: Record<string, unknown> = {}) {
  const gate = new Gate();
  gates.push(gate);
  return apps
    .start({
      url: db.url,
      providers: [
        CallLog,
        ServedFlow,
        OtherFlow,
        SlotsFlow,
        StalledFlow,
        DelayedFlow,
        DelayedStartFlow,
        RetryLaterFlow,
        { provide: GATE, useValue: gate },
      ],
      pgflow: { worker },
    })
    .then((app) => ({ ...app, gate }));
}

/**
 * Lets a new app's worker finish its first reads: its queues were empty, so it would read them next
 * at the end of its longest wait (maxPollSeconds) unless told otherwise.
 */
function idleWorker(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1_000));
}

async function databaseNow(): Promise<Date> {
  const [row] = await db.query<{ now: Date }>('select now() as now');
  return row?.now as Date;
}

interface WorkerRow {
  worker_id: string;
  queue_name: string;
  started_at: Date;
  stopped_at: Date | null;
  last_heartbeat_at: Date;
}

function workersSince(since: Date): Promise<WorkerRow[]> {
  return db.query<WorkerRow>('select * from pgflow.workers where started_at >= $1 order by queue_name', [since]);
}

describe('the worker', () => {
  it('registers in pgflow.workers for the flows it serves, and heartbeats', async () => {
    const since = await databaseNow();
    await startApp({ heartbeatIntervalMs: 50, flows: [ServedFlow] });

    const [registered] = await waitFor(async () => {
      const rows = await workersSince(since);
      return rows.length > 0 && rows;
    });
    expect(registered).toMatchObject({ queue_name: 'worker_served', stopped_at: null });
    const first = registered?.last_heartbeat_at.getTime() ?? 0;
    await waitFor(
      async () => {
        const [row] = await db.query<WorkerRow>('select * from pgflow.workers where worker_id = $1', [
          registered?.worker_id,
        ]);
        return (row?.last_heartbeat_at.getTime() ?? 0) > first;
      },
      { description: 'last_heartbeat_at to advance' },
    );
  });

  it('marks its worker rows stopped when the application closes', async () => {
    const since = await databaseNow();
    const app = await startApp();
    await waitFor(async () => (await workersSince(since)).length > 0, { description: 'the worker registered' });

    await app.close();
    const rows = await workersSince(since);
    expect(rows.map((row) => row.stopped_at)).toEqual(rows.map(() => expect.any(Date)));
  });

  it('with worker.flows, serves only those flows and leaves the tasks of the others untouched', async () => {
    const { client, app } = await startApp({ flows: [ServedFlow] });
    const other = await client.start(OtherFlow, { n: 1 });
    const served = await client.start('worker_served', { n: 2 });
    await served.wait({ timeoutMs: 10_000 });
    // A second run through the served queue: the worker has polled again since the other run started.
    await (await client.start(ServedFlow, { n: 3 })).wait({ timeoutMs: 10_000 });

    expect(app.get(CallLog).of('other')).toEqual([]);
    const tasks = await db.query('select status, attempts_count from pgflow.step_tasks where run_id = $1', [
      other.runId,
    ]);
    expect(tasks).toEqual([{ status: 'queued', attempts_count: 0 }]);
    const messages = await db.query<{ read_ct: number }>('select read_ct from pgmq.q_worker_other');
    expect(messages.map((message) => message.read_ct)).toEqual([0]);
    expect((await client.getRun(other.runId)).status).toBe('started');
  });

  it('accepts slugs in worker.flows', async () => {
    const { client, app } = await startApp({ flows: ['worker_other'] });
    await expect((await client.start(OtherFlow, {})).wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      output: { other: 'other' },
    });
    expect(app.get(CallLog).of('serve')).toEqual([]);
  });

  it('refuses to boot when worker.flows names a flow the application does not have', async () => {
    const error = await startApp({ flows: ['worker_served', 'no_such_flow'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error).toMatchObject({ flow: 'no_such_flow' });
  });

  it('never runs more than maxConcurrent handlers at once', async () => {
    const { client, app, gate } = await startApp({ maxConcurrent: 3 });
    gate.open();
    const run = await client.start(
      SlotsFlow,
      Array.from({ length: 20 }, () => ({ hold: false })),
    );
    await run.wait({ timeoutMs: 10_000 });

    const flow = app.get(SlotsFlow);
    expect(flow.maxRunning).toBeLessThanOrEqual(3);
    expect(flow.maxRunning).toBeGreaterThan(1);
  });

  it('refills a free slot at once: quick tasks finish while a slow one holds its slot', async () => {
    const { client, app, gate } = await startApp({ maxConcurrent: 2, batchSize: 10 });
    const items = [{ hold: true }, ...Array.from({ length: 12 }, () => ({ hold: false }))];
    const run = await client.start(SlotsFlow, items);

    await waitFor(
      async () => {
        const [step] = (await client.getRun(run.runId)).steps;
        return step?.tasks.filter((task) => task.status === 'completed').length === 12;
      },
      { description: 'every quick item to complete while item 0 holds its slot' },
    );
    const [step] = (await client.getRun(run.runId)).steps;
    expect(step?.tasks[0]).toMatchObject({ taskIndex: 0, status: 'started' });
    expect(app.get(CallLog).of('item', run.runId)).toHaveLength(13);
    gate.open();
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      output: { item: items.map((_, index) => index) },
    });
  });

  // A worker whose queue is empty waits up to maxPollSeconds (here the most allowed, 300 s, ten times a
  // test's time limit) unless it knows when the next message becomes visible: a run that completes
  // within the test shows that the worker woke up for the delayed message. The delay itself is
  // checked as a lower bound, which a busy machine cannot break.
  it('runs a step with startDelay once the delay has passed, not at the end of a long poll', async () => {
    const { client } = await startApp({ maxPollSeconds: 300, pollIntervalMs: 10 });
    await idleWorker();
    // The report of 'now' starts 'later', delayed: it says when 'later' becomes visible.
    const run = await client.start(DelayedFlow, {});
    const done = await run.wait({ timeoutMs: 25_000 });

    expect((done.output as { later: number }).later).toBeGreaterThanOrEqual(900);
  });

  it("runs a run's first step with startDelay once the delay has passed, not at the end of a long poll", async () => {
    const { client } = await startApp({ maxPollSeconds: 300, pollIntervalMs: 10 });
    await idleWorker();
    // The start claims nothing for the idle worker (the task is not visible yet): it reads again.
    const startedAt = Date.now();
    const run = await client.start(DelayedStartFlow, {});
    const done = await run.wait({ timeoutMs: 25_000 });

    expect((done.output as { waited: number }).waited - startedAt).toBeGreaterThanOrEqual(900);
  });

  it('runs a retry once its delay has passed, not at the end of a long poll', async () => {
    const { client } = await startApp({ maxPollSeconds: 300, pollIntervalMs: 10 });
    const run = await client.start(RetryLaterFlow, {});
    const done = await run.wait({ timeoutMs: 25_000 });

    expect((done.output as { flaky: number }).flaky).toBeGreaterThanOrEqual(1_900);
  });

  it('requeues a task stalled in a crashed worker, and runs it again', async () => {
    const run = await startAndCrash({ requeuedBefore: 0 });

    const { app } = await startApp({ flows: [StalledFlow] });
    await expect(run.wait({ timeoutMs: 20_000 })).resolves.toMatchObject({
      output: { resume: 'resumed on attempt 2' },
    });
    expect(
      app
        .get(CallLog)
        .of('resume', run.runId)
        .map((call) => call.attempt),
    ).toEqual([2]);
    const [task] = await db.query(
      'select status, attempts_count, requeued_count from pgflow.step_tasks where run_id = $1',
      [run.runId],
    );
    expect(task).toEqual({ status: 'completed', attempts_count: 2, requeued_count: 1 });
  }, 30_000);

  it('fails the run of a task stalled after its last requeue, and wait() rejects', async () => {
    const run = await startAndCrash({ requeuedBefore: 3 });

    const { app } = await startApp({ flows: [StalledFlow] });
    const error = await run.wait({ timeoutMs: 20_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({ runId: run.runId, stepSlug: 'resume' });
    expect(app.get(CallLog).of('resume', run.runId)).toEqual([]);
    const [task] = await db.query<{ status: string; permanently_stalled_at: Date | null }>(
      'select status, permanently_stalled_at from pgflow.step_tasks where run_id = $1',
      [run.runId],
    );
    expect(task).toEqual({ status: 'failed', permanently_stalled_at: expect.any(Date) });
  }, 30_000);
});

/**
 * Starts a run of StalledFlow in an application without a worker, then plays a worker that takes
 * its task and dies: the task stays started, an hour ago, far beyond its timeout (1 s) + 30 s.
 */
async function startAndCrash(options: { requeuedBefore: number }) {
  const api = await apps.start({
    url: db.url,
    providers: [CallLog, StalledFlow],
    pgflow: { worker: { enabled: false } },
  });
  const run = await api.client.start(StalledFlow, { resume: true });
  const crashed = randomUUID();
  await db.query(
    "insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, 'worker_stalled', 'crashed')",
    [crashed],
  );
  const [message] = await db.query<{ msg_id: string }>(
    "select msg_id from pgmq.read(queue_name => 'worker_stalled', vt => 30, qty => 1)",
  );
  await db.query(
    "select * from pgflow.start_tasks(flow_slug => 'worker_stalled', msg_ids => $1::bigint[], worker_id => $2)",
    [[message?.msg_id], crashed],
  );
  await db.query(
    `update pgflow.step_tasks
        set queued_at = queued_at - interval '1 hour', started_at = started_at - interval '1 hour',
            requeued_count = $2
      where run_id = $1`,
    [run.runId, options.requeuedBefore],
  );
  return run;
}
