/**
 * Several worker processes on one database running 200 runs of a flow with a map step: every run
 * completes exactly once, no task is completed twice, and the counts add up; then the same while
 * workers are killed with SIGKILL and restarted at random moments. Throughput is recorded as a
 * figure (a measurement, not an assertion).
 */
import { useTestDatabase } from '../support/test-database.ts';
import { auditRuns, instrument, wrongFanoutOutputs } from './support/audit.ts';
import { startFanoutRuns, waitForRunsToEnd } from './support/fanout-runs.ts';
import { recordFigure } from './support/figures.ts';
import { useWorkerProcesses, type WorkerProcess } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();
const ITEMS = 5;
/** split + one square per item + total. */
const TASKS_PER_RUN = ITEMS + 2;

beforeAll(() => instrument(db));
beforeEach(() => db.query('truncate public.reliability_executions, public.reliability_completions'));

function pause(minMs: number, maxMs: number): Promise<void> {
  // A deliberate random delay: the moments of the faults must not line up with any poll loop.
  return new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
}

async function startWorkers(
  count: number,
  delayMs: readonly [number, number],
  flow: 'fanout' | 'patient' = 'fanout',
): Promise<WorkerProcess[]> {
  const started = Array.from({ length: count }, () => workers.spawn({ url: db.url, delayMs, flow }));
  await Promise.all(started.map((worker) => worker.ready()));
  return started;
}

describe('worker processes under load', () => {
  it('3 workers run 200 runs of a map flow: every run completes once, every task completes and runs once', async () => {
    // No faults here, so no attempt may time out and run again: the 10-minute step timeout (the
    // fanout flow's 2 s, made for the SIGKILL test below, was outlived by a handler once on a machine
    // whose cores were all taken, and its task ran twice).
    await startWorkers(3, [0, 10], 'patient');
    const started = Date.now();
    const runIds = await startFanoutRuns(db, 200, ITEMS);

    expect(await waitForRunsToEnd(db, runIds, 240_000)).toBe(200);
    const seconds = (Date.now() - started) / 1000;
    expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
    const audit = await auditRuns(db, runIds);
    expect(audit).toEqual({
      runs: { completed: 200 },
      tasks: { completed: 200 * TASKS_PER_RUN },
      completions: { task: 200 * TASKS_PER_RUN, step: 200 * 3, run: 200, maxPerKey: 1 },
      executions: 200 * TASKS_PER_RUN,
      reexecutedTasks: 0,
      completedWithoutExecution: 0,
    });
    const byWorker = await db.query<{ worker: string }>('select distinct worker from public.reliability_executions');
    expect(byWorker).toHaveLength(3);

    recordFigure('3 worker processes, 200 runs × 7 tasks, started at once', 200 / seconds, 'runs/s', {
      tasksPerSecond: Math.round((200 * TASKS_PER_RUN) / seconds),
      seconds,
      handlerMs: '0-10',
    });
  }, 300_000);

  it('4 workers killed with SIGKILL and restarted at random moments: every run still completes exactly once', async () => {
    const pool = await startWorkers(4, [10, 60]);
    const started = Date.now();
    const runIds: string[] = [];
    const waves = (async () => {
      for (let wave = 0; wave < 10; wave += 1) {
        runIds.push(...(await startFanoutRuns(db, 20, ITEMS)));
        await pause(200, 400);
      }
    })();
    let kills = 0;
    const chaos = (async () => {
      for (let round = 0; round < 6; round += 1) {
        await pause(300, 1_200);
        const victim = pool.splice(Math.floor(Math.random() * pool.length), 1)[0] as WorkerProcess;
        await victim.killNow();
        kills += 1;
        pool.push(workers.spawn({ url: db.url, delayMs: [10, 60] }));
      }
    })();
    await Promise.all([waves, chaos]);
    await Promise.all(pool.map((worker) => worker.ready()));

    expect(await waitForRunsToEnd(db, runIds, 300_000)).toBe(200);
    const seconds = (Date.now() - started) / 1000;
    expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
    const audit = await auditRuns(db, runIds);
    expect(audit).toMatchObject({
      runs: { completed: 200 },
      tasks: { completed: 200 * TASKS_PER_RUN },
      completions: { task: 200 * TASKS_PER_RUN, step: 200 * 3, run: 200, maxPerKey: 1 },
      completedWithoutExecution: 0,
    });
    expect(audit.executions).toBeGreaterThanOrEqual(200 * TASKS_PER_RUN);

    const [spread] = await db.query<{ p50: number; p90: number; stalled: number }>(
      `select percentile_cont(0.5) within group (order by extract(epoch from completed_at - started_at)) as p50,
              percentile_cont(0.9) within group (order by extract(epoch from completed_at - started_at)) as p90,
              (select count(distinct run_id)::int from pgflow.step_tasks
                where run_id = any($1::uuid[]) and requeued_count > 0) as stalled
         from pgflow.runs where run_id = any($1::uuid[])`,
      [runIds],
    );
    recordFigure('4 worker processes, 6 SIGKILL + restarts during 200 runs', 200 / seconds, 'runs/s', {
      kills,
      seconds,
      runSecondsP50: spread?.p50,
      runSecondsP90: spread?.p90,
      runsWithARequeuedTask: spread?.stalled,
      reexecutedTasks: audit.reexecutedTasks,
      extraExecutions: audit.executions - 200 * TASKS_PER_RUN,
      note: 'seconds include waiting out the stall detection (step timeout 2 s + 30 s) for orphaned tasks',
    });
  }, 420_000);
});
