/**
 * Run events through handle.on(): live events in commit order, the events that happened before the
 * subscription (replayed, in order, as the library documents), several subscribers, unsubscribing.
 */
import { Flow, type RunEvent, Step, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'events_chain', maxAttempts: 1 })
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

@Flow({ slug: 'events_failing', maxAttempts: 2, baseDelay: 0 })
class FailingFlow {
  @Step()
  broken(): string {
    // A subscriber that comes after a failure gets its task:retrying replayed (the engine keeps the
    // attempt count and the last error), so no subscriber needs to be listening before it.
    throw new Error('always broken');
  }
}

@Flow({ slug: 'events_skipping', maxAttempts: 1 })
class SkippingFlow {
  @Step()
  items(input: { count: number }) {
    return Array.from({ length: input.count }, (_, i) => i);
  }

  /** Runs only when `items` holds 5: skipped after `items` completes, not inside start(). */
  @Step({ dependsOn: ['items'], if: { items: [5] } })
  extra() {
    return 'extra';
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApp(): Promise<TestApp> {
  return apps.start({ url: db.url, providers: [ChainFlow, FailingFlow, SkippingFlow] });
}

/** `event_type step_slug` of each event, the way the assertions below read them. */
function names(events: readonly RunEvent[]): string[] {
  return events.map((event) =>
    event.event_type.startsWith('run:') ? event.event_type : `${event.event_type} ${event.step_slug}`,
  );
}

/** Waits until `events` holds `length` events; on timeout, says which ones arrived. */
async function waitForLength(events: readonly RunEvent[], length: number): Promise<void> {
  try {
    await waitFor(() => events.length >= length, { description: `${length} events` });
  } catch (error) {
    throw new Error(`Expected ${length} events, received ${events.length}: [${names(events).join(', ')}]`, {
      cause: error,
    });
  }
}

const CHAIN_EVENTS = [
  'run:started',
  'step:started first',
  'step:completed first',
  'step:started second',
  'step:completed second',
  'step:started third',
  'step:completed third',
  'run:completed',
];

describe('run events', () => {
  it("on('step:completed') receives each step of a chain in order, with its output", async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 2 });
    const events: RunEvent[] = [];
    run.on('step:completed', (event) => events.push(event));
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(events, 3);
    expect(events.map((event) => [event.event_type, event.step_slug, event.output])).toEqual([
      ['step:completed', 'first', 3],
      ['step:completed', 'second', 6],
      ['step:completed', 'third', 'result 6'],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ run_id: run.runId, flow_slug: 'events_chain', status: 'completed' });
      expect(event.at).toEqual(expect.any(String));
    }
  });

  it("on('*') right after start() receives every event of the run, in order, ending with run:completed", async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 0 });
    const events: RunEvent[] = [];
    run.on('*', (event) => events.push(event));
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(events, CHAIN_EVENTS.length);
    expect(names(events)).toEqual(CHAIN_EVENTS);
    expect(events.at(-1)).toMatchObject({ status: 'completed', output: { third: 'result 2' } });
  });

  it('a subscriber added after the run ended receives its events, replayed in order', async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 1 });
    await run.wait({ timeoutMs: 10_000 });

    const events: RunEvent[] = [];
    run.on('*', (event) => events.push(event));
    await waitForLength(events, CHAIN_EVENTS.length);
    expect(names(events)).toEqual(CHAIN_EVENTS);
    expect(events.find((event) => event.event_type === 'step:completed')).toMatchObject({ output: 2 });
  });

  it('a second subscriber receives the events the first one already received', async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 3 });
    const early: RunEvent[] = [];
    run.on('step:completed', (event) => early.push(event));
    await run.wait({ timeoutMs: 10_000 });
    await waitForLength(early, 3);

    const late: RunEvent[] = [];
    run.on('step:completed', (event) => late.push(event));
    await waitForLength(late, 3);
    expect(names(late)).toEqual(names(early));
  });

  it('reports retries, the failed step and the failed run', async () => {
    const { client } = await startApp();
    const run = await client.start(FailingFlow, {});
    const events: RunEvent[] = [];
    run.on('task:retrying', (event) => events.push(event));
    run.on('step:failed', (event) => events.push(event));
    run.on('run:failed', (event) => events.push(event));
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    await waitForLength(events, 3);
    expect(names(events)).toEqual(['task:retrying broken', 'step:failed broken', 'run:failed']);
    expect(events[0]).toMatchObject({ attempt: 1, error_message: expect.stringContaining('always broken') });
    expect(events[1]?.error_message).toContain('always broken');
    expect(events[2]).toMatchObject({ status: 'failed', error_message: expect.stringContaining('always broken') });
  });

  it('replays the retries and the failure of a run that already failed', async () => {
    const { client } = await startApp();
    const run = await client.start(FailingFlow, {});
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    const events: RunEvent[] = [];
    run.on('*', (event) => events.push(event));
    await waitForLength(events, 5);
    expect(names(events)).toEqual([
      'run:started',
      'step:started broken',
      'task:retrying broken',
      'step:failed broken',
      'run:failed',
    ]);
  });

  it("on('step:skipped') receives the skipped step with its skip reason", async () => {
    const { client } = await startApp();
    const run = await client.start(SkippingFlow, { count: 2 });
    const events: RunEvent[] = [];
    run.on('step:skipped', (event) => events.push(event));
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(events, 1);
    expect(events).toEqual([
      expect.objectContaining({ event_type: 'step:skipped', step_slug: 'extra', skip_reason: 'condition_unmet' }),
    ]);
  });

  it('stops calling a callback once it is unsubscribed', async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 5 });
    const kept: RunEvent[] = [];
    const dropped: RunEvent[] = [];
    run.on('step:completed', (event) => kept.push(event));
    const unsubscribe = run.on('step:completed', (event) => dropped.push(event));
    unsubscribe();
    await run.wait({ timeoutMs: 10_000 });

    await waitForLength(kept, 3);
    expect(dropped).toEqual([]);
  });

  it('never calls a callback unsubscribed before its subscription was active, not even with replayed events', async () => {
    const { client } = await startApp();
    const run = await client.start(ChainFlow, { n: 5 });
    await run.wait({ timeoutMs: 10_000 });
    const kept: RunEvent[] = [];
    await run.on('step:completed', (event) => kept.push(event)).subscribed;
    expect(kept).toHaveLength(3);
    const dropped: RunEvent[] = [];
    const unsubscribe = run.on('step:completed', (event) => dropped.push(event));
    unsubscribe();
    await unsubscribe.subscribed;
    expect(dropped).toEqual([]);
  });
});

describe('a subscription that cannot be made', () => {
  /**
   * Subscribes after the application closed (and its LISTEN connection with it), without awaiting
   * `subscribed`, and collects the unhandled rejections until the failure has been reported.
   */
  async function subscribeAfterClose(withOnError: boolean) {
    const testApp = await startApp();
    const run = await testApp.client.start(ChainFlow, { n: 1 });
    await testApp.close();
    const unhandled: unknown[] = [];
    const received: unknown[] = [];
    const logged = () => testApp.logger.errors.filter((args) => String(args[0]).includes(run.runId));
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const subscription = run.on('*', () => {}, withOnError ? { onError: (error) => received.push(error) } : {});
      await waitFor(() => unhandled.length + received.length + logged().length > 0, {
        description: 'the failed subscription to be reported',
      });
      // Node reports an unhandled rejection once the microtasks queued with it have run: let them.
      await new Promise((resolve) => setImmediate(resolve));
      return { run, unhandled, received, logged: logged(), subscription };
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }

  it('is logged with its stack, never an unhandled rejection; subscribed rejects for whoever awaits it', async () => {
    const { run, unhandled, logged, subscription } = await subscribeAfterClose(false);

    expect(unhandled).toEqual([]);
    expect(logged).toHaveLength(1);
    const [message, stack] = logged[0] as [string, string];
    expect(message).toContain(`Could not subscribe to the '*' events of run ${run.runId}`);
    expect(stack).toMatch(/^Error: The pgflow notification listener is closed.*\n\s+at /);
    await expect(subscription.subscribed).rejects.toThrow(/listener is closed/);
  });

  it('goes to the onError option instead of the log when one is given', async () => {
    const { unhandled, received, logged } = await subscribeAfterClose(true);

    expect(unhandled).toEqual([]);
    expect(received).toEqual([expect.objectContaining({ message: expect.stringMatching(/listener is closed/) })]);
    expect(logged).toEqual([]);
  });
});
