/**
 * Watching runs with FlowClient: getRun snapshots, wait() (timeouts, abort signals, runs that
 * already ended, runs started elsewhere) and run events through handle.on().
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
import { waitFor } from '../../support/wait-for.ts';
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

interface SeenEvent {
  readonly event_type: string;
  readonly run_id: string;
  readonly flow_slug: string;
  readonly step_slug?: string;
  readonly status: string;
  readonly output?: unknown;
  readonly error_message?: string;
  readonly skip_reason?: string;
  readonly at: unknown;
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

    const snapshot = await client.getRun(run.runId);
    expect(snapshot).toEqual({
      runId: run.runId,
      flowSlug: 'watch_shapes',
      status: 'completed',
      input: { count: 2 },
      output: { each: [0, 10] },
      startedAt: expect.any(Date),
      completedAt: expect.any(Date),
      failedAt: null,
      steps: [
        {
          stepSlug: 'items',
          status: 'completed',
          output: [0, 1],
          errorMessage: null,
          skipReason: null,
          tasks: [{ taskIndex: 0, status: 'completed', attemptsCount: 1, errorMessage: null }],
        },
        {
          stepSlug: 'each',
          status: 'completed',
          output: [0, 10],
          errorMessage: null,
          skipReason: null,
          tasks: [
            { taskIndex: 0, status: 'completed', attemptsCount: 1, errorMessage: null },
            { taskIndex: 1, status: 'completed', attemptsCount: 1, errorMessage: null },
          ],
        },
        {
          stepSlug: 'extra',
          status: 'skipped',
          output: null,
          errorMessage: null,
          skipReason: 'condition_unmet',
          tasks: [],
        },
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
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AbortError');
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

describe('run events', () => {
  it("on('step:completed') receives each step of a chain in order, with its output", async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ChainFlow, { n: 2 });
    const events: SeenEvent[] = [];
    run.on('step:completed', (event) => events.push(event as SeenEvent));
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(events, 3);
    expect(events.map((event) => [event.event_type, event.step_slug, event.output])).toEqual([
      ['step:completed', 'first', 3],
      ['step:completed', 'second', 6],
      ['step:completed', 'third', 'result 6'],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ run_id: run.runId, flow_slug: 'watch_chain', status: 'completed' });
      expect(event.at).toBeDefined();
    }
  });

  it("on('*') receives every event: steps started and completed, then the run completed with its output", async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ChainFlow, { n: 0 });
    const events: SeenEvent[] = [];
    run.on('*', (event) => events.push(event as SeenEvent));
    await run.wait({ timeoutMs: 10_000 });

    await waitFor(() => events.some((event) => event.event_type === 'run:completed'), {
      description: 'the run:completed event',
    });
    const steps = events.filter((event) => event.event_type.startsWith('step:'));
    expect(steps.map((event) => `${event.event_type} ${event.step_slug}`)).toEqual(
      expect.arrayContaining(['step:completed first', 'step:started second', 'step:completed second']),
    );
    expect(steps.map((event) => `${event.event_type} ${event.step_slug}`).slice(-2)).toEqual([
      'step:started third',
      'step:completed third',
    ]);
    expect(events.at(-1)).toMatchObject({
      event_type: 'run:completed',
      status: 'completed',
      output: { third: 'result 2' },
    });
  });

  it('reports retries, the failed step and the failed run', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(FailingFlow, {});
    const events: SeenEvent[] = [];
    run.on('task:retrying', (event) => events.push(event as SeenEvent));
    run.on('step:failed', (event) => events.push(event as SeenEvent));
    run.on('run:failed', (event) => events.push(event as SeenEvent));
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    await waitForLength(events, 3);
    expect(events.map((event) => [event.event_type, event.step_slug])).toEqual([
      ['task:retrying', 'broken'],
      ['step:failed', 'broken'],
      ['run:failed', undefined],
    ]);
    expect(events[1]?.error_message).toContain('always broken');
  });

  it("on('step:skipped') receives the skipped step with its skip reason", async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ShapesFlow, { count: 2 });
    const events: SeenEvent[] = [];
    run.on('step:skipped', (event) => events.push(event as SeenEvent));
    await run.wait({ timeoutMs: 10_000 });

    await waitFor(() => events.length >= 1, { description: 'a step:skipped event' });
    expect(events).toEqual([
      expect.objectContaining({ event_type: 'step:skipped', step_slug: 'extra', skip_reason: 'condition_unmet' }),
    ]);
  });

  it('stops calling a callback once it is unsubscribed', async () => {
    const { client } = await startWorkerApp();
    const run = await client.start(ChainFlow, { n: 5 });
    const kept: SeenEvent[] = [];
    const dropped: SeenEvent[] = [];
    run.on('step:completed', (event) => kept.push(event as SeenEvent));
    const unsubscribe = run.on('step:completed', (event) => dropped.push(event as SeenEvent));
    unsubscribe();
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(kept, 3);
    expect(dropped).toEqual([]);
  });
});

function waitForLength(events: readonly unknown[], length: number): Promise<unknown> {
  return waitFor(() => events.length >= length, { timeoutMs: 5_000, description: `${length} events` });
}
