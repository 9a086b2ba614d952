/**
 * wait() in the process whose worker ends the run settles from the worker's report (the statement
 * that ended the run returns its outcome: LocalOutcomes), not from the run's notification and a read.
 * With notifications shed, nothing else would end these waits before their timeout: the safety read
 * comes every 15 s.
 */
import { jest } from '@jest/globals';
import { Flow, RunFailedError, Step } from 'nestjs-pgflow';
import { sql } from '../../../libs/pgflow/src/db/engine.sql.ts';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { PgflowRegistrations } from '../../../libs/pgflow/src/registration/pgflow-registrations.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

/** Each handler waits for release(): the run ends only once its wait() is listening and has read it. */
@Flow({ slug: 'local_outcome', maxAttempts: 1 })
class HeldFlow {
  private readonly held: Array<() => void> = [];

  @Step()
  async only(input: { name: string; fail?: boolean }) {
    await new Promise<void>((resolve) => this.held.push(resolve));
    if (input.fail) throw new Error(`${input.name} failed on purpose`);
    return input.name;
  }

  get waiting(): number {
    return this.held.length;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

@Flow({ slug: 'local_outcome_echo' })
class EchoFlow {
  @Step()
  async echo(input: { name: string }) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    return input.name;
  }
}

const db = useTestDatabase();
const apps = useApps();

/** Counts the reads of a run's outcome (sql.runOutcome) from now on. */
function outcomeReads(): { count: number } {
  const reads = { count: 0 };
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(function (this: PgflowDatabase, ...args) {
    if (args[0] === sql.runOutcome) reads.count += 1;
    return query.apply(this, args);
  } as typeof query);
  return reads;
}

beforeEach(async () => {
  // No notification at all: a wait settles from its worker's report, or after its timeout.
  await db.query('update pgflow.limits set notify_queue_shed_at = 0');
});

afterEach(async () => {
  jest.restoreAllMocks();
  await db.query('update pgflow.limits set notify_queue_shed_at = 0.5');
});

it('settles wait() from the report that completed the run, with the run as the tables hold it', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [HeldFlow] });
  const flow = app.get(HeldFlow);
  const reads = outcomeReads();
  const run = await client.start(HeldFlow, { name: 'here' });
  const first = run.wait({ timeoutMs: 8_000 });
  const second = client.wait(run.runId, { timeoutMs: 8_000 });
  await waitFor(() => flow.waiting === 1 && reads.count >= 2, { timeoutMs: 5_000, description: 'both waits to read' });
  const readsBefore = reads.count;
  flow.release();
  const [completed, again] = await Promise.all([first, second]);
  expect(completed).toMatchObject({ runId: run.runId, status: 'completed', output: { only: 'here' } });
  expect(again).toEqual(completed);
  expect(completed).toEqual(
    expect.objectContaining({ input: { name: 'here' }, startedAt: expect.any(Date), completedAt: expect.any(Date) }),
  );
  const stored = await client.getRun(run.runId);
  expect(completed.completedAt).toEqual(stored.completedAt);
  expect(reads.count).toBe(readsBefore);
}, 30_000);

it('rejects wait() with RunFailedError from the report that failed the run', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [HeldFlow] });
  const flow = app.get(HeldFlow);
  const reads = outcomeReads();
  const run = await client.start(HeldFlow, { name: 'doomed', fail: true });
  const waiting = run.wait({ timeoutMs: 8_000 });
  await waitFor(() => flow.waiting === 1 && reads.count >= 1, { timeoutMs: 5_000, description: 'the wait to read' });
  flow.release();
  const error = await waiting.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RunFailedError);
  expect(error).toMatchObject({ runId: run.runId, stepSlug: 'only' });
  expect((error as Error).message).toContain('doomed failed on purpose');
}, 30_000);

it('leaves a wait in a process without the worker to its notification (none here: it times out)', async () => {
  const { app } = await apps.start({ url: db.url, providers: [HeldFlow] });
  const { client: apiClient } = await apps.start({
    url: db.url,
    providers: [HeldFlow],
    pgflow: { worker: { enabled: false } },
  });
  const run = await apiClient.start(HeldFlow, { name: 'elsewhere' });
  const waiting = apiClient.wait(run.runId, { timeoutMs: 3_000 });
  await waitFor(() => app.get(HeldFlow).waiting === 1, { timeoutMs: 5_000, description: 'the handler' });
  app.get(HeldFlow).release();
  await expect(waiting).rejects.toMatchObject({ code: 'PGFLOW_WAIT_TIMEOUT' });
  await waitFor(async () => (await apiClient.getRun(run.runId)).status === 'completed', {
    timeoutMs: 5_000,
    description: 'the run to complete in the other process',
  });
}, 30_000);

it('leaves a wait on a run this process watches to the run’s end event: the callbacks get it first', async () => {
  await db.query('update pgflow.limits set notify_queue_shed_at = 0.5');
  const { app, client } = await apps.start({ url: db.url, providers: [HeldFlow] });
  const flow = app.get(HeldFlow);
  const run = await client.start(HeldFlow, { name: 'watched' });
  const events: string[] = [];
  await run.on('*', (event) => events.push(event.event_type)).subscribed;
  const waiting = run.wait({ timeoutMs: 8_000 }).then((completed) => {
    events.push('wait() resolved');
    return completed;
  });
  await waitFor(() => flow.waiting === 1, { timeoutMs: 5_000, description: 'the handler' });
  flow.release();
  await expect(waiting).resolves.toMatchObject({ output: { only: 'watched' } });
  expect(events.slice(-2)).toEqual(['run:completed', 'wait() resolved']);
}, 30_000);

it('settles 200 concurrent waits of runs started here, each with its own run, and keeps nothing afterwards', async () => {
  await db.query('update pgflow.limits set notify_queue_shed_at = 0.5');
  const { app, client } = await apps.start({
    url: db.url,
    providers: [EchoFlow],
    pgflow: { worker: { maxConcurrent: 20, batchSize: 10 } },
  });
  const names = Array.from({ length: 200 }, (_, n) => `run ${n}`);
  const completed = await Promise.all(
    names.map(async (name) => {
      const run = await client.start(EchoFlow, { name });
      return run.wait({ timeoutMs: 30_000 });
    }),
  );
  expect(completed.map((run) => run.output)).toEqual(names.map((name) => ({ echo: name })));
  expect(app.get(PgflowRegistrations).of(undefined).outcomes.isEmpty).toBe(true);
}, 60_000);
