/**
 * Fairness across flows in one worker (issue 13): a flow with a 20,000-task backlog does not hold
 * back another flow's task behind it. The worker takes the flows whose queues are due in turn, so the
 * other flow's task is claimed within a round or two of its notification, whatever the backlog.
 * Measured as the backlog's tasks that start after start() returns (a count, not a time, so that a
 * slow machine cannot fail it): a worker that served the busy flow first would start thousands.
 */
import { Flow, type MapStepContext, Step } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

const BACKLOG = 20_000;
const BATCH_SIZE = 10;
const MAX_CONCURRENT = 10;

@Flow({ slug: 'fair_backlog', maxAttempts: 1 })
class BacklogFlow {
  started = 0;

  @Step({ map: true })
  async item(n: number, _ctx: MapStepContext) {
    this.started += 1;
    await new Promise((resolve) => setTimeout(resolve, 2));
    return n;
  }
}

@Flow({ slug: 'fair_single', maxAttempts: 1 })
class SingleFlow {
  /** The backlog's started tasks, and the time, when this flow's task began. */
  seen: { backlogStarted: number; at: number } | undefined;

  constructor(private readonly backlog: BacklogFlow) {}

  @Step()
  only() {
    this.seen = { backlogStarted: this.backlog.started, at: performance.now() };
    return 'done';
  }
}

const db = useTestDatabase();
const apps = useApps();

it(`starts another flow's task within a round or two while a ${BACKLOG.toLocaleString('en')}-task map drains`, async () => {
  const { app, client } = await apps.start({
    url: db.url,
    providers: [BacklogFlow, SingleFlow],
    pgflow: { worker: { maxConcurrent: MAX_CONCURRENT, batchSize: BATCH_SIZE } },
  });
  const backlog = app.get(BacklogFlow);
  const single = app.get(SingleFlow);

  await client.start(
    BacklogFlow,
    Array.from({ length: BACKLOG }, (_, i) => i),
  );
  await waitFor(() => backlog.started >= 200, { timeoutMs: 60_000, description: 'the backlog to be draining' });

  // Counted from start()'s return: its task is claimable from the commit just before, while the
  // backlog's tasks that started during the start itself (a slow statement on a loaded machine) say
  // nothing about the worker's turns.
  const startedAt = performance.now();
  const { runId } = await client.start(SingleFlow, {});
  const before = backlog.started;
  await waitFor(() => single.seen !== undefined, { timeoutMs: 60_000, description: "the other flow's task to start" });
  const seen = single.seen as { backlogStarted: number; at: number };
  const inBetween = seen.backlogStarted - before;
  console.log(
    `fairness: the other flow's task started ${Math.round(seen.at - startedAt)} ms after start(), ` +
      `${inBetween} backlog tasks started after start() returned (${BACKLOG - seen.backlogStarted} still queued)`,
  );

  // Two round trips of the backlog may be in flight when the notification arrives, and the turn may
  // fall to the backlog once more: a few batches at most, far from the thousands still queued.
  expect(inBetween).toBeLessThanOrEqual(5 * BATCH_SIZE + MAX_CONCURRENT);
  expect(BACKLOG - seen.backlogStarted).toBeGreaterThan(1_000);
  expect((await client.wait(runId, { timeoutMs: 30_000 })).status).toBe('completed');
});
