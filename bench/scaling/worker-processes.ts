/**
 * One measurement of the scaling suite: N worker processes (worker-host.ts) drain the runs of a
 * clone of a prepared database. Each process boots a Nest app of its own on it outside the clock
 * (worker disabled); once all are ready the parent takes its "before" readings (after a CHECKPOINT)
 * and sends every process its go at once; the clock stops when the database shows every run
 * complete, then the "after" readings are taken and the processes stop their workers and close
 * their apps.
 *
 * What is read, over the clock's interval: tasks/s; write transactions (the server's transaction id
 * counter: server-wide) and WAL bytes; the machine's and the PostgreSQL processes' CPU
 * (support/server-cpu.ts); the worker processes' own CPU (process.cpuUsage, go to stop, reported
 * back); commits of the other databases on the server (other work competing for it). Commits of the
 * measured database come from pg_stat_database once the apps have closed their connections (a
 * backend's counts reach it when it ends or goes idle): they include what the apps' shutdown
 * committed and what their boot committed on connections that stayed open.
 */
import { cpus } from 'node:os';
import { until, untilRunsCompleted } from '../support/figures.ts';
import type { BenchDatabase, BenchServer } from '../support/server.ts';
import { type CpuReading, type CpuShares, cpuBetween, readCpu } from '../support/server-cpu.ts';
import { readWork, type WorkReading, workBetween } from '../support/work-counters.ts';
import { SCALING_FLOWS, type ScalingInput } from './scaling.workloads.ts';
import type { WorkerHost } from './worker-hosts.ts';

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
  readonly otherCommits: ReadonlyMap<string, number>;
  readonly at: number;
}

/** Commits of every other database, by name. */
async function otherCommits(server: BenchServer, database: BenchDatabase): Promise<ReadonlyMap<string, number>> {
  await server.adminQuery('select pg_stat_clear_snapshot()');
  const rows = await server.adminQuery<{ datname: string; commits: string }>(
    `select datname, xact_commit as commits from pg_stat_database where datname is not null and datname <> $1`,
    [database.name],
  );
  return new Map(rows.map((row) => [row.datname, Number(row.commits)]));
}

/** Commits of the databases present at both readings (other work creates and drops databases). */
function otherCommitsBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let commits = 0;
  for (const [name, value] of after) {
    const earlier = before.get(name);
    if (earlier !== undefined) commits += Math.max(0, value - earlier);
  }
  return commits;
}

async function reading(server: BenchServer, database: BenchDatabase): Promise<Reading> {
  const work = await readWork(server, database);
  const cpu = await readCpu(server, database);
  return { work, cpu, otherCommits: await otherCommits(server, database), at: performance.now() };
}

/** Measures the first `spec.processes` of `hosts` draining a clone of `prepared`, which is left as it is. */
export async function measureWorkerProcesses(
  server: BenchServer,
  prepared: BenchDatabase,
  hosts: readonly WorkerHost[],
  spec: GroupSpec,
): Promise<GroupSample> {
  const group = hosts.slice(0, spec.processes);
  if (group.length < spec.processes)
    throw new Error(`${spec.processes} worker processes asked, ${hosts.length} started.`);
  const database = await server.cloneDatabase(prepared);
  const probe = await database.connect('pgflow bench probe');
  // A process that fails ends the measurement instead of hanging it.
  const failed = Promise.race(group.map((host) => host.failure));
  const unlessFailed = <T>(work: Promise<T>) => Promise.race([work, failed]);
  let booted = false;
  try {
    const input: ScalingInput = { ...spec.input, database: { name: database.name, url: database.url } };
    await unlessFailed(Promise.all(group.map((host) => host.boot(input))));
    booted = true;
    await server.checkpoint();
    const before = await reading(server, database);
    for (const host of group) host.go();
    const slug = SCALING_FLOWS[spec.input.handlers].slug;
    const handled = () => group.reduce((sum, host) => sum + host.handled, 0);
    await unlessFailed(until(() => handled() >= spec.tasks, `${spec.tasks} handler calls (${handled()} so far)`));
    await unlessFailed(untilRunsCompleted(probe, slug));
    const after = await reading(server, database);
    booted = false;
    const stopped = await unlessFailed(Promise.all(group.map((host) => host.stop())));
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
      otherCommits: otherCommitsBetween(before.otherCommits, after.otherCommits),
      cpu: cpuBetween(before.cpu, after.cpu),
      workerCpuMicros: stopped.reduce((sum, outcome) => sum + outcome.cpuMicros, 0),
      handledPerProcess: stopped.map((outcome) => outcome.handled),
    };
  } finally {
    // Apps left booted by a failure are closed (a failed process's request just fails).
    if (booted) await Promise.allSettled(group.map((host) => host.stop()));
    await probe.end().catch(() => {});
    await server.dropDatabase(database);
  }
}

/** The worker processes' CPU as a share of all the machine's cores over the clock. */
export function workerCpuShare(sample: GroupSample): number {
  return sample.workerCpuMicros / (sample.seconds * 1e6 * cpus().length);
}
