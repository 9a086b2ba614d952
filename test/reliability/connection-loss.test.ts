/**
 * Every connection of the database terminated with pg_terminate_backend while runs are in flight,
 * twice: the worker processes (their pools and their LISTEN connections) and the FlowClient of an
 * API-only application recover by themselves, every run completes exactly once, and every wait()
 * resolves with the run's output.
 */

import type { CompletedRun } from 'nestjs-pgflow';
import { type TestApp, useApps } from '../library/fixtures/pgflow-app.ts';
import { ExecutionLog, expectedFanoutOutput, FanoutFlow, HANDLER_BEHAVIOUR } from '../processes/reliability-flows.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument, wrongFanoutOutputs } from './support/audit.ts';
import { databaseNow, waitForRunsToEnd } from './support/fanout-runs.ts';
import { recordFigure } from './support/figures.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();
const apps = useApps();

beforeAll(() => instrument(db));

/** Terminates every backend of the test database except the test's own pool; returns how many. */
async function terminateEverything(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'pgflow test'`,
  );
  return row?.n ?? 0;
}

function completedRuns(runIds: readonly string[]): Promise<number> {
  return db
    .query<{ n: number }>(
      "select count(*)::int as n from pgflow.runs where run_id = any($1::uuid[]) and status = 'completed'",
      [runIds],
    )
    .then(([row]) => row?.n ?? 0);
}

/** Seconds from `since` (database clock, epoch ms) to the first task completed after it. */
async function secondsToFirstCompletion(since: number): Promise<number> {
  const first = await waitFor(
    async () => {
      const [row] = await db.query<{ first: Date | null }>(
        'select min(completed_at) as first from pgflow.step_tasks where completed_at > to_timestamp($1::double precision / 1000)',
        [since],
      );
      return row?.first ?? undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, description: 'a task completed after the connections were terminated' },
  );
  return (first.getTime() - since) / 1000;
}

describe('every connection terminated while runs are in flight', () => {
  it('workers and FlowClient listeners recover by themselves: runs complete once and wait() resolves', async () => {
    await Promise.all(
      ['one', 'two'].map((label) =>
        workers.start({ url: db.url, label, delayMs: [50, 150], worker: { maxConcurrent: 5 } }),
      ),
    );
    const api = await apps.start({
      url: db.url,
      providers: [
        FanoutFlow,
        ExecutionLog,
        { provide: HANDLER_BEHAVIOUR, useValue: { worker: 'api', delayMs: [0, 0] } },
      ],
      pgflow: { worker: { enabled: false } },
    });
    const inputs = Array.from({ length: 40 }, (_, n) => ({ items: [n, n + 1, n + 2, n + 3] }));
    const handles = await Promise.all(inputs.map((input) => api.client.start(FanoutFlow, input)));
    const runIds = handles.map((handle) => handle.runId);
    const waits = handles.map((handle) => handle.wait({ timeoutMs: 120_000 }));

    const recoveries: number[] = [];
    let terminated = 0;
    for (const target of [5, 15]) {
      await waitFor(async () => (await completedRuns(runIds)) >= target, {
        timeoutMs: 60_000,
        description: `${target} runs completed`,
      });
      const at = await databaseNow(db);
      terminated += await terminateEverything();
      recoveries.push(await secondsToFirstCompletion(at));
    }
    // 2 workers and the API app: each a pool and a LISTEN connection, at least.
    expect(terminated).toBeGreaterThanOrEqual(2 * 6);

    const done = await Promise.all(waits);
    expect(done.map((run) => run.output)).toEqual(inputs.map((input) => expectedFanoutOutput(input.items)));
    expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
    const audit = await auditRuns(db, runIds);
    expect(audit).toMatchObject({
      runs: { completed: 40 },
      tasks: { completed: 40 * 6 },
      completions: { task: 40 * 6, step: 40 * 3, run: 40, maxPerKey: 1 },
      completedWithoutExecution: 0,
    });
    // One LISTEN connection per process (2 workers and the API app): each came back, none twice.
    const listeners = async (): Promise<number> =>
      (
        await db.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'pgflow listener'",
        )
      )[0]?.n ?? 0;
    await waitFor(
      async () => {
        const count = await listeners();
        if (count !== 3) throw new Error(`${count} LISTEN connections`);
        return true;
      },
      { description: 'the 3 LISTEN connections to be back' },
    );
    expect(api.logger.errors).toEqual([]);

    recordFigure(
      'pg_terminate_backend of every connection → first task completed after it',
      Math.max(...recoveries),
      's',
      {
        rounds: recoveries,
        extraExecutions: audit.executions - 40 * 6,
      },
    );
  }, 150_000);

  it('a wait() whose read of the run is cut by pg_terminate_backend keeps waiting, and resolves when the run completes later', async () => {
    const api = await startApiApp();
    const run = await api.client.start(FanoutFlow, { items: [1, 2, 3] });

    const { outcome } = await waitWithItsReadCut(api, run.runId);
    await workers.start({ url: db.url });
    expect(await outcome).toEqual({ completed: expect.objectContaining({ output: expectedFanoutOutput([1, 2, 3]) }) });
  }, 60_000);

  it('a wait() on a run that already completed, whose only read is cut by pg_terminate_backend, reads again and resolves', async () => {
    const api = await startApiApp();
    const run = await api.client.start(FanoutFlow, { items: [4, 5] });
    await workers.start({ url: db.url });
    await waitForRunsToEnd(db, [run.runId], 30_000);

    const { outcome } = await waitWithItsReadCut(api, run.runId);
    expect(await outcome).toEqual({ completed: expect.objectContaining({ output: expectedFanoutOutput([4, 5]) }) });
  }, 60_000);
});

function startApiApp(): Promise<TestApp> {
  return apps.start({
    url: db.url,
    providers: [FanoutFlow, ExecutionLog, { provide: HANDLER_BEHAVIOUR, useValue: { worker: 'api', delayMs: [0, 0] } }],
    pgflow: { worker: { enabled: false } },
  });
}

/**
 * Calls wait() while a lock holds its read of the run, terminates that read's backend, releases the
 * lock, and hands back wait()'s outcome (settling later, never rejecting), wrapped so that it is not
 * awaited here.
 */
async function waitWithItsReadCut(
  api: TestApp,
  runId: string,
): Promise<{ outcome: Promise<{ completed: CompletedRun } | { error: unknown }> }> {
  const locker = await db.connect('reliability lock holder');
  await locker.query('begin');
  await locker.query('lock table pgflow.runs in access exclusive mode');
  const outcome = api.client.wait(runId, { timeoutMs: 60_000 }).then(
    (completed) => ({ completed }),
    (error: unknown) => ({ error }),
  );
  const blocked = await waitFor(
    async () =>
      (
        await db.query<{ pid: number }>(
          `select pid from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like '%from pgflow.runs r%'`,
        )
      )[0],
    { description: "wait()'s read of the run to wait for the lock" },
  );
  await db.query('select pg_terminate_backend($1)', [blocked.pid]);
  await locker.query('rollback');
  await locker.end();
  return { outcome };
}
