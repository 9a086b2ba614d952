/**
 * wait() on a run whose task this process's worker has in hand does not LISTEN on the run's channel:
 * the worker's report brings the run's outcome (LocalOutcomes.whenReleased). It listens once the
 * worker holds no task of the run, or after HELD_LISTEN_DEFER_MS, so a run ended elsewhere is heard.
 */
import { jest } from '@jest/globals';
import { Flow, RunCancelledError, Step } from 'nestjs-pgflow';
import { runChannel } from '../../../libs/pgflow/src/db/engine.sql.ts';
import { NotificationListener } from '../../../libs/pgflow/src/db/notification-listener.ts';
import { HELD_LISTEN_DEFER_MS } from '../../../libs/pgflow/src/registration/local-outcomes.ts';
import { PgflowWorker } from '../../../libs/pgflow/src/worker/pgflow-worker.service.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { QuickChainFlow } from '../fixtures/chain-flow.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

/** The handler runs until release() (or `ms`). */
@Flow({ slug: 'held_slow', maxAttempts: 1 })
class SlowFlow {
  private readonly held: Array<() => void> = [];

  @Step()
  async only(input: { ms: number }) {
    await new Promise<void>((resolve) => {
      this.held.push(resolve);
      setTimeout(resolve, input.ms);
    });
    return 'done';
  }

  get running(): number {
    return this.held.length;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

const db = useTestDatabase();
const apps = useApps();

/** The channels subscribed from now on. */
function subscriptions(): string[] {
  const channels: string[] = [];
  const subscribe = NotificationListener.prototype.subscribe;
  jest.spyOn(NotificationListener.prototype, 'subscribe').mockImplementation(function (
    this: NotificationListener,
    ...args
  ) {
    channels.push(args[0]);
    return subscribe.apply(this, args);
  } as typeof subscribe);
  return channels;
}

/** What the worker answers when asked which runs it holds (PgflowWorker.heldRunIds), from now on. */
function heldChecks(): Array<ReadonlySet<string>> {
  const answers: Array<ReadonlySet<string>> = [];
  const heldRunIds = PgflowWorker.prototype.heldRunIds;
  jest.spyOn(PgflowWorker.prototype, 'heldRunIds').mockImplementation(function (this: PgflowWorker) {
    const runIds = heldRunIds.call(this);
    answers.push(runIds);
    return runIds;
  });
  return answers;
}

afterEach(() => jest.restoreAllMocks());

it('ends the wait() of a 3-step chain held by this process’s worker without a LISTEN on the run’s channel', async () => {
  const { client } = await apps.start({ url: db.url, providers: [QuickChainFlow] });
  const channels = subscriptions();
  const held = heldChecks();
  // A run is held when the worker claimed its task in the start, which it does only when idle (not
  // while it ends the round trip of the run before); one that ends later than HELD_LISTEN_DEFER_MS
  // after its wait() began listens, as it should (a loaded machine). The check holds for the others.
  let checked = 0;
  for (let n = 1; n <= 10; n++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const run = await client.start(QuickChainFlow, { n });
    const waitedAt = performance.now();
    const checksBefore = held.length;
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { c: n + 3 } });
    const wasHeld = held.slice(checksBefore).some((runIds) => runIds.has(run.runId));
    if (!wasHeld || performance.now() - waitedAt >= HELD_LISTEN_DEFER_MS) continue;
    checked += 1;
    expect({ n, listened: channels.filter((channel) => channel === runChannel(run.runId)) }).toEqual({
      n,
      listened: [],
    });
  }
  expect(checked).toBeGreaterThanOrEqual(3);
});

it(`listens when the handler runs longer than ${HELD_LISTEN_DEFER_MS} ms, and settles from the report`, async () => {
  const { client } = await apps.start({ url: db.url, providers: [SlowFlow] });
  const channels = subscriptions();
  const run = await client.start(SlowFlow, { ms: 4 * HELD_LISTEN_DEFER_MS });
  const waiting = run.wait({ timeoutMs: 10_000 });
  await waitFor(() => channels.includes(runChannel(run.runId)), {
    timeoutMs: 5_000,
    description: 'the wait to listen on the run’s channel',
  });
  await expect(waiting).resolves.toMatchObject({ status: 'completed', output: { only: 'done' } });
});

it('hears a run cancelled by another process while this worker still runs its task', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [SlowFlow] });
  const flow = app.get(SlowFlow);
  const run = await client.start(SlowFlow, { ms: 60_000 });
  const waiting = run.wait({ timeoutMs: 30_000 });
  await waitFor(() => flow.running === 1, { timeoutMs: 5_000, description: 'the handler to run' });
  // The expectation holds the wait's rejection before the cancel: the run's notification may reach
  // the app before the cancel's own answer reaches this test, and an unheld rejection fails the test.
  const cancelled = expect(waiting).rejects.toBeInstanceOf(RunCancelledError);
  await db.query(`select pgflow.cancel_run($1::uuid, 'from another process')`, [run.runId]);
  await cancelled;
  expect(flow.running).toBe(1);
  flow.release();
});
