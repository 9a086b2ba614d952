/**
 * A worker killed with SIGKILL while its tasks run, with a 10-minute step timeout: its heartbeat
 * stops, any live worker's sweep declares it dead after its declareDeadAfterMs (3 heartbeat
 * intervals by default) and requeues its started tasks at once, whatever their timeout; another
 * worker completes them. The dead worker's row says so. Measured with heartbeats of 1 s and 5 s.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument, tasksStartedBy, tasksWithExecutions } from './support/audit.ts';
import { databaseNow, startFanoutRuns, waitForRunsToEnd } from './support/fanout-runs.ts';
import { recordFigure } from './support/figures.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();

beforeAll(() => instrument(db));

describe.each([1_000, 5_000])('a worker killed with SIGKILL (heartbeat every %i ms, step timeout 600 s)', (beatMs) => {
  it('is declared dead after 3 heartbeat intervals; another worker completes its tasks, long before the timeout', async () => {
    const spec = {
      url: db.url,
      flow: 'patient' as const,
      delayMs: [1_500, 2_000] as const,
      // The library's default: 3 intervals.
      worker: { maxConcurrent: 4, heartbeatIntervalMs: beatMs, declareDeadAfterMs: 3 * beatMs },
    };
    // Both workers are up before the runs start: a rescuer booted after them could find the victim
    // done with every task on a busy machine, leaving nothing to orphan.
    const victim = await workers.start({ ...spec, label: 'victim' });
    const rescuer = await workers.start({ ...spec, label: 'rescuer' });
    const runIds = await startFanoutRuns(db, 2, 3);
    await waitFor(async () => (await tasksStartedBy(db, victim.pid)).length >= 1, {
      timeoutMs: 20_000,
      description: 'the victim to be running a task',
    });
    await victim.killNow();
    const killedAt = await databaseNow(db);
    const orphans = await tasksStartedBy(db, victim.pid);
    expect(orphans.length).toBeGreaterThan(0);

    // Far below the step's 600 s timeout + 30 s, when the timeout-based sweep would act.
    expect(await waitForRunsToEnd(db, runIds, 120_000)).toBe(runIds.length);
    const audit = await auditRuns(db, runIds);
    expect(audit.completions.maxPerKey).toBe(1);
    const taken = await tasksWithExecutions(db, orphans);
    for (const task of taken) {
      expect(task).toMatchObject({ status: 'completed', requeued_count: 1 });
      expect(task.by[task.by.length - 1]).toBe('rescuer');
    }
    const deadRows = await db.query(
      `select stop_reason, stopped_at is not null as stopped from pgflow.workers
        where function_name like '%:' || $1::text`,
      [String(victim.pid)],
    );
    expect(deadRows.length).toBeGreaterThan(0);
    expect(deadRows).toEqual(deadRows.map(() => ({ stop_reason: 'declared_dead', stopped: true })));
    expect(rescuer.logs(['error', 'fatal'])).toEqual([]);

    const recovered = Math.max(...taken.map((task) => (task.completed_at as Date).getTime()));
    recordFigure(
      `SIGKILL, heartbeat ${beatMs} ms, timeout 600 s: kill → last orphaned task completed elsewhere`,
      (recovered - killedAt) / 1000,
      's',
      { orphans: orphans.length, heartbeatIntervalMs: beatMs, declareDeadAfterMs: 3 * beatMs, handlerMs: '1500-2000' },
    );
  }, 150_000);
});
