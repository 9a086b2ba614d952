/**
 * Run events travel by LISTEN/NOTIFY, which need no privilege: any role that can connect to the
 * database can listen on a run's channel and read its events, and send notifications on it with
 * pg_notify(). A role with no grant on the pgflow schema reads a run's real events, and sends forged
 * end events for a run that is still running: wait() must not settle on them (it reads the outcome
 * from pgflow.runs), while run.on() subscribers receive them as they are (events are advisory,
 * SECURITY.md).
 */
import { Inject } from '@nestjs/common';
import { Flow, type RunEvent, RunFailedError, Step, type StepContext } from 'nestjs-pgflow';
import pg from 'pg';
import { type TestApp, useApps } from '../../library/fixtures/pgflow-app.ts';
import { CallLog, Gate } from '../../library/fixtures/recorders.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useRole } from '../support/roles.ts';

const LATCH = 'FORGED_EVENTS_LATCH';

/** Its one step runs until the test opens the latch: the run stays `started` until then. */
@Flow({ slug: 'forged_events', maxAttempts: 1 })
class LatchedFlow {
  constructor(
    private readonly log: CallLog,
    @Inject(LATCH) private readonly latch: Gate,
  ) {}

  @Step()
  async hold(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    await this.latch.opened;
    return { real: input.n };
  }
}

const db = useTestDatabase();
const apps = useApps();
const forger = useRole(db, 'notifier');
const latches: Gate[] = [];
let forgerClient: pg.Client;

beforeAll(async () => {
  // Only what any role that may log in has: CONNECT on the database, nothing on schema pgflow.
  await db.query(`grant connect on database ${pg.escapeIdentifier(db.name)} to ${forger.name}`);
  forgerClient = await forger.connect();
});

afterEach(() => {
  for (const latch of latches.splice(0)) latch.open();
});

async function startApp(): Promise<TestApp & { latch: Gate }> {
  const latch = new Gate();
  latches.push(latch);
  const app = await apps.start({ url: db.url, providers: [CallLog, LatchedFlow, { provide: LATCH, useValue: latch }] });
  return { ...app, latch };
}

/** Sends `event` on the run's channel as the role without grants. */
async function forge(runId: string, event: Record<string, unknown>): Promise<void> {
  await forgerClient.query('select pg_notify($1, $2)', [`pgflow:run:${runId}`, JSON.stringify(event)]);
}

/**
 * Starts a run whose step holds until the latch opens, a wait() on it and an on() subscriber, and
 * returns once the step runs and both listen.
 */
async function runInProgress(testApp: TestApp & { latch: Gate }) {
  const { app, client } = testApp;
  const run = await client.start(LatchedFlow, { n: 7 });
  const outcome: { settled?: 'resolved' | 'rejected'; value?: unknown } = {};
  const waiting = run.wait({ timeoutMs: 60_000 }).then(
    (value) => Object.assign(outcome, { settled: 'resolved', value }),
    (error: unknown) => Object.assign(outcome, { settled: 'rejected', value: error }),
  );
  const events: RunEvent[] = [];
  // The wait() and this subscriber share the run's channel: once this one listens, so does the wait.
  await run.on('*', (event) => events.push(event)).subscribed;
  await waitFor(() => app.get(CallLog).of('hold', run.runId).length === 1, { description: 'the step running' });
  return { run, outcome, waiting, events };
}

describe('a role with no grant on pgflow', () => {
  it('can neither read the runs nor call the engine, but can notify on a run channel', async () => {
    await expect(forgerClient.query('select 1 from pgflow.runs')).rejects.toMatchObject({ code: '42501' });
    await expect(forgerClient.query("select pgflow.start_flow('forged_events', '{}')")).rejects.toMatchObject({
      code: '42501',
    });
    await expect(forge('00000000-0000-0000-0000-000000000000', { event_type: 'run:completed' })).resolves.toBe(
      undefined,
    );
  });
});

describe('a role with no grant on pgflow, listening on a run channel', () => {
  it("receives the run's events, outputs included", async () => {
    const testApp = await startApp();
    const { run, waiting } = await runInProgress(testApp);
    const overheard: Array<{ event_type: string; output?: unknown }> = [];
    forgerClient.on('notification', (message) => {
      if (message.channel === `pgflow:run:${run.runId}`) overheard.push(JSON.parse(message.payload ?? '{}'));
    });
    await forgerClient.query(`listen ${pg.escapeIdentifier(`pgflow:run:${run.runId}`)}`);

    testApp.latch.open();
    await waiting;
    await waitFor(() => overheard.some((event) => event.event_type === 'run:completed'), {
      description: 'the run:completed event to reach the role without grants',
    });
    expect(overheard.find((event) => event.event_type === 'step:completed')).toMatchObject({ output: { real: 7 } });
    expect(overheard.find((event) => event.event_type === 'run:completed')).toMatchObject({
      output: { hold: { real: 7 } },
    });
    await forgerClient.query('unlisten *');
  });
});

describe('a forged run:completed', () => {
  it('does not settle wait(), which resolves with the real output once the run really completes', async () => {
    const testApp = await startApp();
    const { run, outcome, waiting, events } = await runInProgress(testApp);

    const now = new Date().toISOString();
    await forge(run.runId, {
      event_type: 'run:completed',
      run_id: run.runId,
      flow_slug: 'forged_events',
      status: 'completed',
      input: { n: 7 },
      output: { hold: { forged: true } },
      started_at: now,
      completed_at: now,
      at: now,
    });
    // The forged event reached this process (run.on() delivers it: events are advisory).
    await waitFor(() => events.some((event) => event.event_type === 'run:completed'), {
      description: 'the forged event to arrive',
    });
    expect(events.find((event) => event.event_type === 'run:completed')).toMatchObject({
      output: { hold: { forged: true } },
    });
    expect((await testApp.client.getRun(run.runId)).status).toBe('started');

    testApp.latch.open();
    await waiting;
    expect(outcome).toMatchObject({
      settled: 'resolved',
      value: { runId: run.runId, status: 'completed', output: { hold: { real: 7 } } },
    });
    // The real run:completed was dispatched before wait() read the run as completed; run.on()
    // delivers one event of each kind, so its subscriber kept the forged one.
    expect(events.filter((event) => event.event_type === 'run:completed')).toEqual([
      expect.objectContaining({ output: { hold: { forged: true } } }),
    ]);
  });
});

describe('a forged run:failed', () => {
  it('does not make wait() reject; it resolves with the real output once the run really completes', async () => {
    const testApp = await startApp();
    const { run, outcome, waiting, events } = await runInProgress(testApp);

    await forge(run.runId, {
      event_type: 'run:failed',
      run_id: run.runId,
      flow_slug: 'forged_events',
      status: 'failed',
      step_slug: 'hold',
      error_message: 'forged failure',
      at: new Date().toISOString(),
    });
    await waitFor(() => events.some((event) => event.event_type === 'run:failed'), {
      description: 'the forged event to arrive',
    });
    expect((await testApp.client.getRun(run.runId)).status).toBe('started');

    testApp.latch.open();
    await waiting;
    expect(outcome.value).not.toBeInstanceOf(RunFailedError);
    expect(outcome).toMatchObject({ settled: 'resolved', value: { output: { hold: { real: 7 } } } });
  });
});
