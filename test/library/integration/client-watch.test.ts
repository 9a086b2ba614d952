/**
 * Watching runs with FlowClient: getRun snapshots, and wait() (timeouts, abort signals, runs that
 * already ended, unknown runs). Run events (handle.on) are in client-events.test.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  Flow,
  type MapStepContext,
  RunFailedError,
  RunNotFoundError,
  Step,
  type StepInput,
  WaitTimeoutError,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';

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

describe('wait()', () => {
  it('rejects with WaitTimeoutError when the run does not end within timeoutMs', async () => {
    const { client } = await startApiApp();
    const run = await client.start(StuckFlow, {});
    const started = Date.now();

    const error = await run.wait({ timeoutMs: 50 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'PGFLOW_WAIT_TIMEOUT', runId: run.runId, timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
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

  it('client.wait(runId) on a run that already completed resolves at once with the completed run', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ChainFlow, { n: 1 });
    const first = await run.wait({ timeoutMs: 10_000 });

    const again = await client.wait(run.runId, { timeoutMs: 200 });
    expect(again).toEqual(first);
    expect(again).toMatchObject({ status: 'completed', output: { third: 'result 4' } });
  });

  it('client.wait(runId) on a run that already failed rejects at once with RunFailedError', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(FailingFlow, {});
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    const error = await client.wait(run.runId, { timeoutMs: 200 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({ stepSlug: 'broken', errorMessage: expect.stringContaining('always broken') });
  });

  it('client.wait(runId) rejects with RunNotFoundError for an unknown run', async () => {
    const { client } = await startApiApp();
    await expect(client.wait(randomUUID(), { timeoutMs: 1_000 })).rejects.toBeInstanceOf(RunNotFoundError);
  });
});
