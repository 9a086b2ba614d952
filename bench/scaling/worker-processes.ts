/**
 * One measurement of the scaling suite: N worker processes (scaling.workloads.ts) drain the runs of
 * a clone of a prepared database. The processes boot outside the clock (each its own Nest app,
 * worker disabled); once all are ready the parent takes its "before" readings (after a CHECKPOINT)
 * and sends every process its go at once; the clock stops when the database shows every run
 * complete, then the "after" readings are taken and the processes are asked to stop.
 *
 * What is read, over the clock's interval: tasks/s; write transactions (the server's transaction id
 * counter: server-wide) and WAL bytes; the machine's and the PostgreSQL processes' CPU
 * (support/server-cpu.ts); the worker processes' own CPU (process.cpuUsage, go to stop, reported
 * back); commits of the other databases on the server (other work competing for it). Commits of the
 * measured database come from pg_stat_database once the processes have exited (a backend's counts
 * reach it when it ends or goes idle): they include what the processes' shutdown committed and what
 * their boot committed on connections that stayed open.
 */
import { cpus } from 'node:os';
import { type ChildOutcome, runInChild } from '../support/child.ts';
import { until } from '../support/figures.ts';
import type { BenchDatabase, BenchServer } from '../support/server.ts';
import { type CpuReading, type CpuShares, cpuBetween, readCpu } from '../support/server-cpu.ts';
import { readWork, type WorkReading, workBetween } from '../support/work-counters.ts';
import { SCALING_FLOWS, type ScalingInput } from './scaling.workloads.ts';

const WORKLOADS = new URL('./scaling.workloads.ts', import.meta.url);

export interface GroupSpec {
  readonly processes: number;
  /** Every process's input, but its database (the clone's). */
  readonly input: Omit<ScalingInput, 'database'>;
  /** Tasks in the prepared database: one per run. */
  readonly tasks: number;
  readonly log: (line: string) => void;
}

export interface GroupSample {
  readonly processes: number;
  readonly tasks: number;
  readonly seconds: number;
  /** Commits of the measured database (read-only ones included), boot leftovers and shutdown included. */
  readonly commits: number;
  /** Transactions that got an id, server-wide, during the clock. */
  readonly writeTransactions: number;
  readonly walBytes: number;
  readonly deadlocks: number;
  /** Commits of every other database on the server during the clock (other work). */
  readonly otherCommits: number;
  readonly cpu: CpuShares;
  /** CPU of all the worker processes together, µs, go to stop. */
  readonly workerCpuMicros: number;
  /** Handler calls of each process. */
  readonly handledPerProcess: readonly number[];
}

interface Reading {
  readonly work: WorkReading;
  readonly cpu: CpuReading;
  readonly otherCommits: number;
  readonly at: number;
}

async function otherCommits(server: BenchServer, database: BenchDatabase): Promise<number> {
  const [row] = await server.adminQuery<{ commits: string }>(
    `select coalesce(sum(xact_commit), 0) as commits from pg_stat_database where datname <> $1`,
    [database.name],
  );
  return Number(row?.commits ?? 0);
}

async function reading(server: BenchServer, database: BenchDatabase): Promise<Reading> {
  const work = await readWork(server, database);
  const cpu = await readCpu(server, database);
  return { work, cpu, otherCommits: await otherCommits(server, database), at: performance.now() };
}

/** A promise with its resolve and reject. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Measures `spec.processes` worker processes draining a clone of `prepared`, which is left as it is. */
export async function measureWorkerProcesses(
  server: BenchServer,
  prepared: BenchDatabase,
  spec: GroupSpec,
): Promise<GroupSample> {
  const database = await server.cloneDatabase(prepared);
  const probe = await database.connect('pgflow bench probe');
  const progress = new Array<number>(spec.processes).fill(0);
  const stop = deferred<void>();
  const started = deferred<Reading>();
  // Keeps an unhandled rejection away when a process fails before the barrier.
  started.promise.catch(() => {});
  let ready = 0;
  const barrier = async (): Promise<void> => {
    ready += 1;
    if (ready === spec.processes) {
      await server.checkpoint();
      started.resolve(await reading(server, database));
    }
    await started.promise;
  };
  try {
    const children = Array.from({ length: spec.processes }, (_, i) =>
      runInChild<ScalingInput, { handled: number }>({
        module: WORKLOADS,
        exportName: 'serveUntilStopped',
        input: { ...spec.input, database: { name: database.name, url: database.url } },
        beforeGo: barrier,
        stop: stop.promise,
        onProgress: (value) => {
          progress[i] = value;
        },
        log: spec.log,
        timeoutMs: 300_000,
      }),
    );
    // A process that fails ends the measurement: the others are released (and stopped).
    const all = Promise.all(children);
    all.catch((error: unknown) => {
      started.reject(error);
      stop.resolve();
    });
    const before = await Promise.race([started.promise, all.then(() => never())]);
    const slug = SCALING_FLOWS[spec.input.handlers].slug;
    const finished = (async () => {
      await until(
        () => progress.reduce((a, b) => a + b, 0) >= spec.tasks,
        `${spec.tasks} handler calls (${progress.join(' + ')} so far)`,
      );
      await until(
        async () => {
          const { rows } = await probe.query<{ left: string }>(
            `select count(*) as left from pgflow.runs where flow_slug = $1 and status <> 'completed'`,
            [slug],
          );
          return Number(rows[0]?.left) === 0;
        },
        'every run to be completed',
        60_000,
        5,
      );
      return reading(server, database);
    })();
    const after = await Promise.race([finished, all.then(() => never())]);
    stop.resolve();
    const outcomes: ChildOutcome<{ handled: number }>[] = await all;
    await probe.end();
    await server.waitForDisconnect(database);
    const work = await workBetween(server, before.work, after.work);
    const final = await readWork(server, database);
    return {
      processes: spec.processes,
      tasks: spec.tasks,
      seconds: (after.at - before.at) / 1000,
      commits: final.commits - before.work.commits,
      writeTransactions: work.writeTransactions,
      walBytes: work.walBytes,
      deadlocks: final.deadlocks - before.work.deadlocks,
      otherCommits: after.otherCommits - before.otherCommits,
      cpu: cpuBetween(before.cpu, after.cpu),
      workerCpuMicros: outcomes.reduce((sum, outcome) => sum + outcome.cpuMicros, 0),
      handledPerProcess: outcomes.map((outcome) => outcome.result.handled),
    };
  } finally {
    stop.resolve();
    await probe.end().catch(() => {});
    await server.dropDatabase(database);
  }
}

/** The worker processes' CPU as a share of all the machine's cores over the clock. */
export function workerCpuShare(sample: GroupSample): number {
  return sample.workerCpuMicros / (sample.seconds * 1e6 * cpus().length);
}

function never(): never {
  throw new Error('The worker processes ended before the parent asked them to stop.');
}
