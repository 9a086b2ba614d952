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

const db = useTestDatabase();
const apps = useApps();

afterEach(() => jest.restoreAllMocks());

it('keeps two round trips in flight while a backlog drains, never more, and never more tasks than maxConcurrent', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const query = PgflowDatabase.prototype.query;
  // The real query, counted: the statements still run on the test database.
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (this: PgflowDatabase, ...args) {
    const roundTrip = args[0].includes('_report_and_claim');
    if (roundTrip) maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      return await query.apply(this, args);
    } finally {
      if (roundTrip) inFlight -= 1;
    }
  } as typeof query);

  const { app, client } = await apps.start({
    url: db.url,
    providers: [BacklogFlow],
    pgflow: { worker: { maxConcurrent: 40, batchSize: 20 } },
  });
  const items = Array.from({ length: 1_500 }, (_, i) => i);
  const run = await client.start(BacklogFlow, items);
  const done = await run.wait({ timeoutMs: 30_000 });

  expect(done.output).toEqual({ item: items });
  expect(maxInFlight).toBe(2);
  expect(app.get(BacklogFlow).maxRunning).toBeLessThanOrEqual(40);
});
