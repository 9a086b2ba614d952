/**
 * The soak: 3 worker processes run a mix of flows (chain, diamond, 1,000-task maps, a retry in
 * every run, conditional branches) on a PostgreSQL server of the test's own, while workers are
 * SIGKILLed and replaced, every connection is terminated, and the server is restarted. The
 * invariants are checked all along and at the end (soak-checks.ts); what it measured (tasks/s over
 * time, recovery times, each worker's RSS, every table's size and dead tuples) goes to
 * .tmp/reliability/soak-<time>.json and a summary line of figures.jsonl.
 *
 * PGFLOW_SOAK_SECONDS sets how long the load runs [45]; `npm run soak` runs it for 600 s. A soak of
 * 240 s or more also requires each worker that lived from minute 2 to the end to keep its RSS
 * within ±15% (the lowest RSS of its last 3 minutes against the lowest of the 3 minutes after
 * minute 2: the floor that a leak would raise, under V8's saw-tooth). Runs are kept PGFLOW_SOAK_RETENTION_SECONDS [120] (the
 * `retention` option of the workers), so the tables must stay bounded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../tools/local-postgres.ts';
import { instrument } from './support/audit.ts';
import { recordFigure } from './support/figures.ts';
import { type RestartablePostgres, startRestartablePostgres } from './support/restartable-postgres.ts';
import { type FaultKind, SoakChaos } from './support/soak-chaos.ts';
import { SOAK_INSTRUMENTATION, SoakChecker } from './support/soak-checks.ts';
import { SoakLoad, type Sql } from './support/soak-load.ts';
import {
  type RssSample,
  rssMb,
  secondsToHalfRate,
  type TablesSnapshot,
  tableGrowth,
  tablesSnapshot,
  tasksPerInterval,
  workerMemory,
} from './support/soak-sampling.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const SECONDS = Number(process.env.PGFLOW_SOAK_SECONDS ?? 45);
const RETENTION_SECONDS = Number(process.env.PGFLOW_SOAK_RETENTION_SECONDS ?? 120);
const LONG = SECONDS >= 240;
/** Drain, final checks and the recovery measurements: generous, the machine is shared. */
const DRAIN_MS = 300_000;

const workers = useWorkerProcesses();
let server: RestartablePostgres | undefined;
let pool: pg.Pool | undefined;

/** The test's own queries, on a pool that survives restarts and terminations (it is never terminated). */
const db: Sql = {
  query: async (text, params) => (await (pool as pg.Pool).query(text, params)).rows,
};

beforeAll(async () => {
  server = await startRestartablePostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 4, application_name: 'pgflow test' });
  pool.on('error', () => {});
  await instrument(db);
  await db.query(SOAK_INSTRUMENTATION);
}, 180_000);

afterAll(async () => {
  await workers.killAll();
  await pool?.end();
  await server?.destroy();
});

/** The faults in a random order: at least one of each kind, about one every 30 s. */
function faultPlan(seconds: number): FaultKind[] {
  const cycle: FaultKind[] = ['sigkill', 'terminate', 'restart', 'sigkill'];
  const count = Math.max(3, Math.round(seconds / 30));
  const plan = Array.from({ length: count }, (_, i) => cycle[i % cycle.length] as FaultKind);
  for (let i = plan.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as FaultKind, plan[i] as FaultKind];
  }
  return plan;
}

describe('the soak', () => {
  it(
    `${SECONDS} s of mixed flows under SIGKILLs, terminated connections and a server restart: every run completes once`,
    async () => {
      const began = Date.now();
      const since = (): number => (Date.now() - began) / 1000;
      const load = new SoakLoad(db);
      const checker = new SoakChecker(db, load);
      const chaos = new SoakChaos(
        workers,
        server as RestartablePostgres,
        db,
        load,
        {
          url: (server as RestartablePostgres).url,
          flow: 'soak',
          retentionSeconds: RETENTION_SECONDS,
          worker: { maxConcurrent: 50, batchSize: 50, heartbeatIntervalMs: 1_000 },
          memoryEveryMs: 5_000,
        },
        began,
      );
      await chaos.startWorkers(3);

      const rss: RssSample[] = [];
      const snapshots: TablesSnapshot[] = [await tablesSnapshot(db, 0)];
      let loadRunning = true;
      const sampling = (async () => {
        let round = 0;
        while (loadRunning) {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          round += 1;
          const t = since();
          for (const worker of chaos.slots) {
            const mb = worker.running ? rssMb(worker.pid) : undefined;
            if (mb !== undefined) rss.push({ t, label: worker.label, pid: worker.pid, rssMb: mb });
          }
          await checker.check(round % 10 === 0);
          if (round % 30 === 0)
            await tablesSnapshot(db, t).then(
              (s) => snapshots.push(s),
              () => {},
            );
        }
      })();

      const loadBegan = Date.now();
      load.begin();
      await chaos.run(loadBegan, SECONDS, faultPlan(SECONDS));
      const remaining = SECONDS * 1000 - (Date.now() - loadBegan);
      if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
      const loadSeconds = (Date.now() - loadBegan) / 1000;
      await load.stop();
      loadRunning = false;
      await sampling;
      const drainBegan = Date.now();
      await checker.drain(Date.now() + DRAIN_MS);
      const drainSeconds = (Date.now() - drainBegan) / 1000;
      await chaos.settle();
      const end = await checker.finalCheck();
      snapshots.push(await tablesSnapshot(db, since()));

      // The figures.
      const [totals] = await db.query<{ tasks: number; steps: number; runs: number }>(
        `select count(*) filter (where kind = 'task')::int as tasks, count(*) filter (where kind = 'step')::int as steps,
              count(*) filter (where kind = 'run')::int as runs from public.reliability_completions`,
      );
      const bucket = LONG ? 30 : 5;
      const rate = await tasksPerInterval(db, loadBegan, bucket);
      const perSecond = new Map(
        (await tasksPerInterval(db, loadBegan, 1)).map((row) => [row.fromSecond, row.tasksPerSecond] as const),
      );
      for (const recovery of chaos.recoveries) {
        recovery.halfRateSeconds = secondsToHalfRate(perSecond, recovery.at - (loadBegan - began) / 1000);
      }
      const minute2 = (LONG ? 120 : Math.min(20, SECONDS / 2)) + (loadBegan - began) / 1000;
      const lastT = Math.max(...rss.map((s) => s.t));
      const workersRss = chaos.everyWorker.map((worker) => workerMemory(worker, rss, began, minute2, lastT));
      const report = {
        date: new Date(began).toISOString(),
        seconds: loadSeconds,
        drainSeconds,
        retentionSeconds: RETENTION_SECONDS,
        loadAverage: (await import('node:os')).loadavg(),
        runsStarted: load.started,
        runsByFlow: load.startedByFlow,
        completions: totals,
        tasksPerSecond: Math.round((totals?.tasks ?? 0) / loadSeconds),
        faults: chaos.counts(),
        bootRetries: chaos.bootRetries,
        startErrors: load.startErrors,
        checks: { rounds: checker.checks, failed: checker.failedChecks, verifiedOutputs: checker.verifiedOutputs },
        lostRuns: load.pending.size,
        violations: checker.violations,
        unexpectedExits: chaos.unexpectedExits,
        end,
        recoveries: chaos.recoveries,
        rate,
        workersRss,
        tables: tableGrowth(snapshots),
        totalKb: snapshots.map((s) => ({ t: Math.round(s.t), kb: s.totalKb })),
      };
      const folder = join(projectRoot(), '.tmp', 'reliability');
      mkdirSync(folder, { recursive: true });
      const file = join(folder, `soak-${new Date(began).toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      recordFigure('soak: tasks/s under faults', report.tasksPerSecond, 'tasks/s', {
        seconds: loadSeconds,
        tasks: totals?.tasks,
        runs: totals?.runs,
        faults: report.faults,
        lostRuns: report.lostRuns,
        report: file,
      });

      // The invariants.
      const lost = [...load.pending.entries()].slice(0, 5).map(([id, run]) => ({ id, ...run }));
      expect({ lost, lostRuns: load.pending.size, ...checker.violations }).toEqual({
        lost: [],
        lostRuns: 0,
        doubleCompletions: [],
        wrongOutputs: [],
        unfinishedRuns: [],
        negativeCounters: [],
        leftoverMessages: [],
      });
      expect(end).toEqual({ leftInQueues: 0, runsStillStarted: 0 });
      expect(chaos.unexpectedExits).toEqual([]);
      expect(totals?.runs).toBe(load.started);
      const faults = chaos.counts();
      expect(faults.sigkill).toBeGreaterThanOrEqual(1);
      expect(faults.terminate).toBeGreaterThanOrEqual(1);
      expect(faults.restart).toBeGreaterThanOrEqual(1);
      if (LONG) {
        // Workers that lived from minute 2 to the end: the lowest RSS of the last 3 minutes within ±15%
        // of the lowest of the 3 minutes after minute 2 (soak-sampling.ts, workerMemory).
        const steady = workersRss.filter((w) => w.rssLowAfterMinute2 && w.rssLowAtEnd);
        expect(steady.length).toBeGreaterThanOrEqual(1);
        for (const w of steady) {
          const change = (w.rssLowAtEnd as number) / (w.rssLowAfterMinute2 as number) - 1;
          expect({ worker: w.label, withinFifteenPercent: Math.abs(change) <= 0.15, change }).toEqual({
            worker: w.label,
            withinFifteenPercent: true,
            change,
          });
        }
      }
    },
    (SECONDS + DRAIN_MS / 1000 + 600) * 1000,
  );
});
