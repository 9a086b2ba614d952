/**
 * Watching runs with FlowClient: getRun snapshots, and wait() (timeouts, abort signals, runs that
 * already ended, unknown runs). Run events (handle.on) are in client-events.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Inject } from '@nestjs/common';
import {
  Flow,
  InvalidOptionsError,
  type MapStepContext,
  PgflowShutdownError,
  type RunEvent,
  RunFailedError,
  RunNotFoundError,
  type RunSnapshot,
  Step,
  type StepInput,
  WaitTimeoutError,
} from 'nestjs-pgflow';
import { sql } from '../../../libs/pgflow/src/db/engine.sql.ts';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';
import { Gate } from '../fixtures/recorders.ts';

const GATE = 'WATCH_GATE';

@Flow({ slug: 'watch_chain', maxAttempts: 1 })
class ChainFlow {
  @Step()
  first(input: { n: number }) {
    return input.n + 1;
  }

  @Step({ dependsOn: ['first'] })
  second(deps: StepInput<ChainFlow, 'first'>) {
    return deps.first * 2;
  }

  @Step({ dependsOn: ['second'] })
  third(deps: StepInput<ChainFlow, 'second'>) {
    return `result ${deps.second}`;
  }
}

@Flow({ slug: 'watch_shapes', maxAttempts: 1 })
class ShapesFlow {
  @Step()
  items(input: { count: number }) {
    return Array.from({ length: input.count }, (_, i) => i);
  }

  @Step({ dependsOn: ['items'], map: true })
  each(item: number, _ctx: MapStepContext) {
    return item * 10;
  }

  /** Runs only when `items` holds 5: skipped after `items` completes, not inside start(). */
  @Step({ dependsOn: ['items'], if: { items: [5] } })
  extra() {
    return 'extra';
  }
}

@Flow({ slug: 'watch_failing', maxAttempts: 2, baseDelay: 0 })
class FailingFlow {
  @Step()
  broken(): string {
    throw new Error('always broken');
  }
}

/** Its first step waits for the test's gate; then three steps run and the run completes. */
@Flow({ slug: 'watch_gated', maxAttempts: 1 })
class GatedChainFlow {
  constructor(@Inject(GATE) private readonly gate: Gate) {}

  @Step()
  async first(input: { n: number }) {
    await this.gate.opened;
    return input.n + 1;
  }

  @Step({ dependsOn: ['first'] })
  second(deps: StepInput<GatedChainFlow, 'first'>) {
    return deps.first * 2;
  }

  @Step({ dependsOn: ['second'] })
  third(deps: StepInput<GatedChainFlow, 'second'>) {
    return deps.second * 2;
  }
}

/** Registered only in an application without a worker: its runs never progress. */
@Flow({ slug: 'watch_stuck' })
class StuckFlow {
  @Step()
  never() {
    return 'never runs';
  }
}

const db = useTestDatabase();
const apps = useApps();
const gates: Gate[] = [];

afterEach(() => {
  for (const gate of gates.splice(0)) gate.open();
  jest.restoreAllMocks();
});

function startWorkerApp(): Promise<TestApp> {
  return apps.start({ url: db.url, providers: [ChainFlow, ShapesFlow, FailingFlow] });
}

function startApiApp(): Promise<TestApp> {
  return apps.start({ url: db.url, providers: [StuckFlow], pgflow: { worker: { enabled: false } } });
}

describe('FlowClient.getRun', () => {
  it('returns the run with its step states and tasks, in step order', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ShapesFlow, { count: 2 });
    await run.wait({ timeoutMs: 10_000 });

    // Shapes may grow (api.md): every documented field, exactly; more fields are allowed.
    const snapshot = await client.getRun(run.runId);
    expect(snapshot).toMatchObject({
      runId: run.runId,
      flowSlug: 'watch_shapes',
      status: 'completed',
      input: { count: 2 },
      output: { each: [0, 10] },
      startedAt: expect.any(Date),
      completedAt: expect.any(Date),
      failedAt: null,
      steps: [
        expect.objectContaining({
          stepSlug: 'items',
          status: 'completed',
          output: [0, 1],
          errorMessage: null,
          skipReason: null,
          tasks: [expect.objectContaining({ taskIndex: 0, status: 'completed', attemptsCount: 1, errorMessage: null })],
        }),
        expect.objectContaining({
          stepSlug: 'each',
          status: 'completed',
          output: [0, 10],
          errorMessage: null,
          skipReason: null,
          tasks: [
            expect.objectContaining({ taskIndex: 0, status: 'completed', attemptsCount: 1, errorMessage: null }),
            expect.objectContaining({ taskIndex: 1, status: 'completed', attemptsCount: 1, errorMessage: null }),
          ],
        }),
        expect.objectContaining({
          stepSlug: 'extra',
          status: 'skipped',
          output: null,
          errorMessage: null,
          skipReason: 'condition_unmet',
          tasks: [],
        }),
      ],
    });
  });

  it('shows a run in progress as started, with its steps not yet run as created', async () => {
    const { client } = await startApiApp();
    const run = await client.start(StuckFlow, {});

    const snapshot = await client.getRun(run.runId);
    expect(snapshot).toMatchObject({ status: 'started', output: null, completedAt: null, failedAt: null });
    expect(snapshot.steps).toEqual([
      expect.objectContaining({
        stepSlug: 'never',
        status: 'started',
        tasks: [expect.objectContaining({ status: 'queued', attemptsCount: 0 })],
      }),
    ]);
  });

  it('throws RunNotFoundError for an unknown run id', async () => {
    const { client } = await startApiApp();
    const runId = randomUUID();
    const error = await client.getRun(runId).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RunNotFoundError);
    expect(error).toMatchObject({ code: 'PGFLOW_RUN_NOT_FOUND', runId });
  });
});

describe('FlowClient.getRun while a run progresses', () => {
  it('returns consistent snapshots: a step is completed exactly when all its tasks are', async () => {
    const { client } = await startWorkerApp();
    // Many runs, each with three step transitions, watched side by side: a snapshot assembled from
    // reads at different moments shows up at one of the transitions.
    const runs = await Promise.all(Array.from({ length: 10 }, () => client.start(ShapesFlow, { count: 50 })));
    const problems: string[] = [];
    let open = runs.map((run) => run.runId);
    while (open.length > 0) {
      const snapshots = await Promise.all(open.map((runId) => client.getRun(runId)));
      for (const snapshot of snapshots) problems.push(...inconsistencies(snapshot));
      open = snapshots.filter((snapshot) => snapshot.status === 'started').map((snapshot) => snapshot.runId);
    }

    expect(problems.slice(0, 5)).toEqual([]);
  }, 30_000);
});

/** What a snapshot taken at one instant could never show. */
function inconsistencies(snapshot: RunSnapshot): string[] {
  const found: string[] = [];
  for (const step of snapshot.steps) {
    const done = step.tasks.filter((task) => task.status === 'completed').length;
    if (step.status === 'completed' && done !== step.tasks.length) {
      found.push(`step ${step.stepSlug} completed with ${step.tasks.length - done} task(s) not completed`);
    }
    if (step.status === 'started' && step.tasks.length > 0 && done === step.tasks.length) {
      found.push(`step ${step.stepSlug} still started with all ${done} task(s) completed`);
    }
  }
  const open = snapshot.steps.filter((step) => step.status === 'created' || step.status === 'started');
  if (snapshot.status === 'completed' && open.length > 0) {
    found.push(`run completed with step(s) ${open.map((step) => step.stepSlug).join(', ')} not finished`);
  }
  return found;
}

describe('wait()', () => {
  it('rejects with WaitTimeoutError when the run does not end within timeoutMs', async () => {
    const { client } = await startApiApp();
    const run = await client.start(StuckFlow, {});

    // The run never progresses (no worker): only the timeout can settle this wait.
    const error = await run.wait({ timeoutMs: 50 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'PGFLOW_WAIT_TIMEOUT', runId: run.runId, timeoutMs: 50 });
    expect((await client.getRun(run.runId)).status).toBe('started');
  });

  it('rejects when its abort signal fires, with the signal’s reason', async () => {
    const { client } = await startApiApp();
    const run = await client.start(StuckFlow, {});
    const controller = new AbortController();
    const reason = new Error('caller gave up');

    const waiting = run.wait({ signal: controller.signal }).catch((caught: unknown) => caught);
    controller.abort(reason);
    expect(await waiting).toBe(reason);
  });

  it('rejects at once for a signal that has already fired', async () => {
    const { client } = await startApiApp();
    const run = await client.start(StuckFlow, {});

    const error = await run.wait({ signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    // AbortSignal.abort()'s reason: a DOMException named AbortError.
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('client.wait(runId) on a run that already completed resolves with the completed run', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ChainFlow, { n: 1 });
    const first = await run.wait({ timeoutMs: 10_000 });

    // No event will come for this run any more: only the read wait() makes when it starts can settle it.
    const again = await client.wait(run.runId, { timeoutMs: 10_000 });
    expect(again).toEqual(first);
    expect(again).toMatchObject({ status: 'completed', output: { third: 'result 4' } });
  });

  it('client.wait(runId) on a run that already failed rejects with RunFailedError', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(FailingFlow, {});
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    const error = await client.wait(run.runId, { timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({ stepSlug: 'broken', errorMessage: expect.stringContaining('always broken') });
  });

  it('client.wait(runId) rejects with RunNotFoundError for an unknown run', async () => {
    const { client } = await startApiApp();
    await expect(client.wait(randomUUID(), { timeoutMs: 10_000 })).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('refuses a run id that is not a UUID, naming it', async () => {
    const { client } = await startApiApp();
    for (const attempt of [() => client.wait('run-42'), () => client.getRun('run-42')]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toContain('run-42');
    }
  });

  it('a wait() still pending when the application closes rejects with PgflowShutdownError', async () => {
    const api = await startApiApp();
    const run = await api.client.start(StuckFlow, {});
    const waiting = run.wait().catch((caught: unknown) => caught);

    await api.close();
    const error = await waiting;
    expect(error).toBeInstanceOf(PgflowShutdownError);
    expect(error).toMatchObject({ runId: run.runId });
  });
});

describe('what wait() reads', () => {
  it('reads the run when it starts listening and when the run ends: not on step events, never on a timer', async () => {
    const gate = new Gate();
    gates.push(gate);
    // The worker in another process: this process hears of the run's end by its notification.
    await apps.start({ url: db.url, providers: [GatedChainFlow, { provide: GATE, useValue: gate }] });
    const { client } = await apps.start({
      url: db.url,
      providers: [GatedChainFlow, { provide: GATE, useValue: gate }],
      pgflow: { worker: { enabled: false } },
    });
    const reads = new Map<string, number>();
    const query = PgflowDatabase.prototype.query;
    // The real statements, counted: wait() reads a run with sql.runOutcome.
    jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(function (this: PgflowDatabase, ...args) {
      const [text, values] = args;
      if (text === sql.runOutcome) reads.set(String(values?.[0]), (reads.get(String(values?.[0])) ?? 0) + 1);
      return query.apply(this, args);
    } as typeof query);

    const run = await client.start(GatedChainFlow, { n: 1 });
    const waiting = run.wait({ timeoutMs: 20_000 });
    const events: RunEvent[] = [];
    await run.on('*', (event) => events.push(event)).subscribed;
    await waitFor(() => events.some((event) => event.event_type === 'step:started'), {
      description: 'the first step to start',
    });
    await waitFor(() => reads.get(run.runId) === 1, { description: 'the first read of the run' });

    gate.open();
    await expect(waiting).resolves.toMatchObject({ status: 'completed', output: { third: 8 } });
    // Every step event arrived, too: six of them, and a read only for the run's end.
    await waitFor(() => events.some((event) => event.event_type === 'run:completed'), {
      description: 'the run:completed event',
    });
    expect(events.filter((event) => event.event_type.startsWith('step:'))).toHaveLength(6);
    expect(reads.get(run.runId)).toBe(2);
  });

  it('reads the run only when it starts listening when the worker of its process ends the run', async () => {
    const gate = new Gate();
    gates.push(gate);
    const { client } = await apps.start({
      url: db.url,
      providers: [GatedChainFlow, { provide: GATE, useValue: gate }],
    });
    let reads = 0;
    const query = PgflowDatabase.prototype.query;
    jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(function (this: PgflowDatabase, ...args) {
      if (args[0] === sql.runOutcome) reads += 1;
      return query.apply(this, args);
    } as typeof query);

    const run = await client.start(GatedChainFlow, { n: 1 });
    const waiting = run.wait({ timeoutMs: 20_000 });
    await waitFor(() => reads === 1, { description: 'the first read of the run' });
    gate.open();
    // The report that ended the run returned its outcome (LocalOutcomes): no second read.
    await expect(waiting).resolves.toMatchObject({ status: 'completed', output: { third: 8 } });
    expect(reads).toBe(1);
  });
});
