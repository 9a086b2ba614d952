/**
 * A chain on an idle worker moves step after step with one round trip per step: the start claims
 * the first step's task for the worker of its process (pgflow._start_and_claim), and the round trip
 * that reports a step's result claims the next step's task (pgflow._report_and_claim), no
 * notification and no other read of the queue in between. Statements are counted on the worker's
 * connections (PgflowDatabase.query); the engine's notifications are all delivered before the
 * count is taken (a marker notified after the run's end arrives after them, on the same
 * connection).
 */
import { jest } from '@jest/globals';
import { sql } from '../../../libs/pgflow/src/db/engine.sql.ts';
import { NotificationListener } from '../../../libs/pgflow/src/db/notification-listener.ts';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { QuickChainFlow } from '../fixtures/chain-flow.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

interface RoundTrip {
  readonly reported: string[];
  readonly claimed: string[];
  /** The runs whose outcome came back with the report (the runs a wait() here waits for). */
  readonly ended: string[];
}

const MARKER_CHANNEL = 'round_trip_test_marker';

const db = useTestDatabase();
const apps = useApps();

afterEach(() => jest.restoreAllMocks());

it('runs a 3-step chain on an idle worker with one round trip per step, and sends no other statement', async () => {
  const roundTrips: RoundTrip[] = [];
  const others: string[] = [];
  let inFlight = 0;
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (this: PgflowDatabase, ...args) {
    const [text, values = []] = args;
    inFlight += 1;
    try {
      if (!text.includes('_report_and_claim')) {
        others.push(text);
        return await query.apply(this, args);
      }
      const rows = (await query.apply(this, args)) as Array<{
        run_id: string | null;
        step_slug: string | null;
        run_outcome: unknown;
      }>;
      const completions = JSON.parse(String(values[0])) as Array<{ step_slug: string }>;
      roundTrips.push({
        reported: completions.map((c) => c.step_slug),
        claimed: rows.filter((row) => row.step_slug !== null).map((row) => row.step_slug as string),
        ended: rows.filter((row) => row.run_outcome !== null).map((row) => row.run_id as string),
      });
      return rows;
    } finally {
      inFlight -= 1;
    }
  } as typeof query);

  // Polls far apart: any read of the queue during the run is one the worker decided on, not its timer.
  const { app, client } = await apps.start({
    url: db.url,
    providers: [QuickChainFlow],
    pgflow: {
      worker: { pollIntervalMs: 60_000, maxPollSeconds: 300, heartbeatIntervalMs: 60_000, declareDeadAfterMs: 180_000 },
    },
  });
  const listener = app.get(NotificationListener);
  const markers: string[] = [];
  await listener.subscribe(MARKER_CHANNEL, (payload) => markers.push(payload));
  /** Resolves when every notification committed before it has reached the worker, and its statements ended. */
  const settled = async (name: string): Promise<void> => {
    await db.query('select pg_notify($1, $2)', [MARKER_CHANNEL, name]);
    await waitFor(() => markers.includes(name) && inFlight === 0, {
      description: `marker ${name}, no statement in flight`,
    });
    await new Promise((resolve) => setImmediate(resolve));
    await waitFor(() => inFlight === 0, { description: 'no statement in flight' });
  };
  // The worker's first read at boot found the queue empty, and its first heartbeat (with the
  // stalled-task sweep) is over: it is idle.
  await waitFor(() => roundTrips.length > 0 && others.includes(sql.requeueStalledTasks), {
    description: 'the first read of the queue and the first stalled-task sweep',
  });
  await settled('idle');
  roundTrips.length = 0;
  others.length = 0;

  const run = await client.start(QuickChainFlow, { n: 1 });
  await expect(run.wait({ timeoutMs: 30_000 })).resolves.toMatchObject({ output: { c: 4 } });
  await settled('done');

  // The start claimed the first step for this worker in its own statement (_start_and_claim): no
  // wake-up and no round trip for it.
  expect(others.filter((text) => text === sql.startAndClaim)).toHaveLength(1);
  expect(roundTrips).toEqual([
    // Each result is reported with the claim of the step it made ready, at once.
    { reported: ['a'], claimed: ['b'], ended: [] },
    { reported: ['b'], claimed: ['c'], ended: [] },
    // The last report ends the run, and returns its outcome to the wait() of this process.
    { reported: ['c'], claimed: [], ended: [run.runId] },
  ]);
  // Besides the round trips, only the client's statements: the start, its look-up of a live worker,
  // and wait()'s read of the run when its LISTEN became active (none if the run had ended by then).
  // Nothing from the worker.
  const fromClient = new Set<string>([sql.startAndClaim, sql.liveWorkerServes]);
  const rest = others.filter((text) => !fromClient.has(text));
  expect(rest.length).toBeLessThanOrEqual(1);
  expect(rest.filter((text) => text !== sql.runOutcome)).toEqual([]);
});
