/**
 * Graceful shutdown under load, in a child process (SIGTERM with Nest shutdown hooks) and in-process
 * (app.close()): in-flight tasks finish and report within shutdownTimeoutMs, what is still running
 * at the deadline is handed back to the queue, nothing stays `started` for the stopped worker, the
 * worker rows are marked stopped, no error is logged, and another worker finishes the runs, each
 * task completed once.
 */

import { useApps } from '../library/fixtures/pgflow-app.ts';
import { ExecutionLog, FanoutFlow, HANDLER_BEHAVIOUR } from '../processes/reliability-flows.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument, tasksStartedBy, tasksWithExecutions, wrongFanoutOutputs } from './support/audit.ts';
import { startFanoutRuns, waitForRunsToEnd } from './support/fanout-runs.ts';
import { recordFigure } from './support/figures.ts';
import { useWorkerProcesses, type WorkerProcess } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();
const apps = useApps();

beforeAll(() => instrument(db));

/** Node's own deprecation notices are not errors of the worker. */
function unexpectedOutput(worker: WorkerProcess, since: number): string[] {
  return worker.otherOutput
    .filter((output) => output.at >= since)
    .map((output) => output.text)
    .filter((text) => !/DeprecationWarning|--trace-deprecation/.test(text));
}

async function stoppedWorkerRows(pid: number): Promise<Array<{ stopped_at: Date | null }>> {
  return db.query('select stopped_at from pgflow.workers where function_name like $1', [`%:${pid}`]);
}

/** Runs the rest of the runs with a fresh worker and checks that each ended once, rightly. */
async function finishElsewhereAndAudit(runIds: string[]): Promise<void> {
  await workers.start({ url: db.url, label: 'finisher' });
  expect(await waitForRunsToEnd(db, runIds, 60_000)).toBe(runIds.length);
  expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
  expect(await auditRuns(db, runIds)).toMatchObject({
    completions: { run: runIds.length, maxPerKey: 1 },
    completedWithoutExecution: 0,
  });
}

describe('graceful shutdown under load', () => {
  it('SIGTERM to a worker process: in-flight tasks finish and report, nothing stays started, no error is logged', async () => {
    const worker = await workers.start({
      url: db.url,
      label: 'terminated',
      delayMs: [300, 600],
      worker: { maxConcurrent: 6, shutdownTimeoutMs: 10_000 },
    });
    const runIds = await startFanoutRuns(db, 10, 4);
    const inFlight = await waitFor(
      async () => {
        const tasks = await tasksStartedBy(db, worker.pid);
        return tasks.length >= 4 ? tasks : undefined;
      },
      { description: 'the worker to run at least 4 tasks' },
    );

    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    const exit = await worker.exited;
    const stopSeconds = (Date.now() - signalledAt) / 1000;

    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    const finished = await tasksWithExecutions(db, inFlight);
    expect(finished.map((task) => ({ status: task.status, by: task.by }))).toEqual(
      inFlight.map(() => ({ status: 'completed', by: ['terminated'] })),
    );
    expect(await tasksStartedBy(db, worker.pid)).toEqual([]);
    const rows = await stoppedWorkerRows(worker.pid);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.stopped_at).toBeInstanceOf(Date);
    expect(worker.logs(['error', 'fatal'], signalledAt)).toEqual([]);
    expect(unexpectedOutput(worker, signalledAt)).toEqual([]);

    await finishElsewhereAndAudit(runIds);
    recordFigure('SIGTERM → process exited (tasks of 300-600 ms in flight)', stopSeconds, 's', {
      inFlight: inFlight.length,
    });
  }, 90_000);

  it('SIGTERM with tasks outlasting shutdownTimeoutMs: they are handed back at once, and another worker completes them', async () => {
    const worker = await workers.start({
      url: db.url,
      label: 'impatient',
      delayMs: [1_500, 1_800],
      worker: { maxConcurrent: 4, shutdownTimeoutMs: 200 },
    });
    const runIds = await startFanoutRuns(db, 4, 3);
    const inFlight = await waitFor(
      async () => {
        const tasks = await tasksStartedBy(db, worker.pid);
        return tasks.length >= 4 ? tasks : undefined;
      },
      { description: 'the worker to run 4 tasks' },
    );

    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    await worker.exited;
    const handedBack = await tasksWithExecutions(db, inFlight);
    expect(handedBack.map((task) => task.status)).toEqual(inFlight.map(() => 'queued'));
    expect(worker.logs(['error', 'fatal'], signalledAt)).toEqual([]);

    await finishElsewhereAndAudit(runIds);
    const taken = await tasksWithExecutions(db, inFlight);
    for (const task of taken) {
      expect(task.status).toBe('completed');
      expect(task.by[0]).toBe('impatient');
      expect(task.by[task.by.length - 1]).toBe('finisher');
    }
  }, 90_000);

  it('app.close() in-process: in-flight tasks finish and report, nothing stays started, no error is logged', async () => {
    const app = await apps.start({
      url: db.url,
      providers: [
        FanoutFlow,
        ExecutionLog,
        { provide: HANDLER_BEHAVIOUR, useValue: { worker: 'in-process', delayMs: [300, 600] } },
      ],
      pgflow: { worker: { maxConcurrent: 6, shutdownTimeoutMs: 10_000 } },
    });
    const runIds = await startFanoutRuns(db, 10, 4);
    const inFlight = await waitFor(
      async () => {
        const tasks = await tasksStartedBy(db, process.pid);
        return tasks.length >= 4 ? tasks : undefined;
      },
      { description: 'the in-process worker to run at least 4 tasks' },
    );

    await app.close();

    const finished = await tasksWithExecutions(db, inFlight);
    expect(finished.map((task) => task.status)).toEqual(inFlight.map(() => 'completed'));
    expect(await tasksStartedBy(db, process.pid)).toEqual([]);
    expect(app.logger.errors).toEqual([]);
    await finishElsewhereAndAudit(runIds);
  }, 90_000);
});
