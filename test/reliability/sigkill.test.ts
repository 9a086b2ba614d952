/**
 * A worker process killed with SIGKILL in the middle of tasks: nothing tells the engine, so its
 * started tasks wait for stall detection (started longer than the step's timeout + 30 s; any live
 * worker sweeps every heartbeat), are requeued, and another worker runs them again. Every run
 * completes once with the right output. The recovery time is recorded as a figure.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument, tasksStartedBy, tasksWithExecutions, wrongFanoutOutputs } from './support/audit.ts';
import { databaseNow, startFanoutRuns, waitForRunsToEnd } from './support/fanout-runs.ts';
import { recordFigure } from './support/figures.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();

/** Runs of 4 items: 6 tasks each (split, 4 squares, total). */
const RUNS = 8;

beforeAll(() => instrument(db));

describe('a worker killed with SIGKILL', () => {
  it('has its started tasks taken over by another worker after stall detection; every run completes once with the right output', async () => {
    const slow = { delayMs: [500, 900] as const, worker: { maxConcurrent: 4 } };
    const [victim, rescuer] = await Promise.all(
      ['victim', 'rescuer'].map((label) => workers.start({ url: db.url, label, ...slow })),
    );
    const runIds = await startFanoutRuns(db, RUNS, 4);

    await waitFor(async () => (await tasksStartedBy(db, victim.pid)).length >= 3, {
      timeoutMs: 20_000,
      description: 'the victim to be running at least 3 tasks',
    });
    await victim.killNow();
    const killedAt = await databaseNow(db);
    const orphans = await tasksStartedBy(db, victim.pid);
    expect(orphans.length).toBeGreaterThan(0);

    expect(await waitForRunsToEnd(db, runIds, 90_000)).toBe(runIds.length);
    expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
    const audit = await auditRuns(db, runIds);
    expect(audit.tasks).toEqual({ completed: RUNS * 6 });
    expect(audit.completions).toEqual({ task: RUNS * 6, step: RUNS * 3, run: RUNS, maxPerKey: 1 });

    const taken = await tasksWithExecutions(db, orphans);
    expect(taken).toHaveLength(orphans.length);
    for (const task of taken) {
      expect(task).toMatchObject({ status: 'completed', requeued_count: 1 });
      expect(task.attempts_count).toBeGreaterThanOrEqual(2);
      expect(task.by[task.by.length - 1]).toBe('rescuer');
    }
    expect(rescuer.logs(['error', 'fatal'])).toEqual([]);

    // Measurement, not an assertion: from the kill to the last orphaned task completed.
    const recovered = Math.max(...taken.map((task) => (task.completed_at as Date).getTime()));
    const oldestStart = Math.min(...orphans.map((task) => task.started_at.getTime()));
    recordFigure('SIGKILL: kill → last orphaned task completed elsewhere', (recovered - killedAt) / 1000, 's', {
      orphans: orphans.length,
      stepTimeoutSeconds: 2,
      orphanRunningBeforeKillSeconds: (killedAt - oldestStart) / 1000,
      heartbeatIntervalMs: 250,
    });
  }, 150_000);
});
