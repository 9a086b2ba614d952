/**
 * The worker's round trips (pgflow._report_and_claim): with a backlog it keeps two in flight, so that
 * the database works on one batch while the other's tasks run, and never more than two; the slots
 * their claims may fill are reserved, so maxConcurrent holds.
 */
import { jest } from '@jest/globals';
import { Flow, type MapStepContext, Step } from 'nestjs-pgflow';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'round_trips_map', maxAttempts: 1 })
class BacklogFlow {
  running = 0;
  maxRunning = 0;

  @Step({ map: true })
  async item(n: number, _ctx: MapStepContext) {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((resolve) => setTimeout(resolve, n % 3));
    this.running -= 1;
    return n;
  }
}

const BATCH_SIZE = 20;

const db = useTestDatabase();
const apps = useApps();

afterEach(() => jest.restoreAllMocks());

it('keeps two round trips in flight while a backlog drains, never more, and never more tasks than maxConcurrent', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  // Set once a claim has come back full (a backlog): the next round trip is then held, after its
  // statement ran, until a second one is in flight too, or for at most 20 s. However slowly the
  // machine runs, a worker that keeps two in flight gets there; one that does not, never.
  let backlogSeen = false;
  let held = false;
  let secondInFlight = (): void => {};
  const bothInFlight = new Promise<void>((resolve) => {
    secondInFlight = resolve;
  });
  const query = PgflowDatabase.prototype.query;
  // The real query, counted: the statements still run on the test database.
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (this: PgflowDatabase, ...args) {
    const roundTrip = args[0].includes('_report_and_claim');
    if (!roundTrip) return query.apply(this, args);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    if (inFlight === 2) secondInFlight();
    const hold = backlogSeen && !held;
    if (hold) held = true;
    try {
      const rows = (await query.apply(this, args)) as Array<{ run_id: string | null }>;
      if (hold) await Promise.race([bothInFlight, deadline(20_000)]);
      if (rows.filter((row) => row.run_id !== null).length >= BATCH_SIZE) backlogSeen = true;
      return rows;
    } finally {
      inFlight -= 1;
    }
  } as typeof query);

  const { app, client } = await apps.start({
    url: db.url,
    providers: [BacklogFlow],
    pgflow: { worker: { maxConcurrent: 40, batchSize: BATCH_SIZE } },
  });
  const items = Array.from({ length: 1_500 }, (_, i) => i);
  const run = await client.start(BacklogFlow, items);
  const done = await run.wait({ timeoutMs: 60_000 });

  expect(done.output).toEqual({ item: items });
  expect(held).toBe(true);
  expect(maxInFlight).toBe(2);
  expect(app.get(BacklogFlow).maxRunning).toBeLessThanOrEqual(40);
}, 90_000);

/** Resolves after `ms`: the most a held round trip waits for the condition it is held for. */
function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
