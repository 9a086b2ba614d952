/**
 * A workload in its own worker process (child.ts) on a fresh database, with what it cost the
 * database (work-counters.ts). The "before" readings are taken when the child's untimed setup is
 * done (its ready()), after a CHECKPOINT; the "after" readings once the worker process has exited.
 * Statements (pg_stat_statements) and WAL are exact; commits and deadlocks reach pg_stat_database
 * when a connection ends, so the commits of the setup made on connections the worker keeps open
 * (its boot: a few dozen at most, against thousands of tasks) count with the workload, and so do
 * those of its shutdown.
 */
import { type ChildOutcome, type ChildSpec, runInChild } from './child.ts';
import type { Throughput } from './figures.ts';
import type { BenchDatabase, BenchServer } from './server.ts';
import { readWork, type WorkDelta, type WorkReading, workBetween } from './work-counters.ts';

export interface MeasuredChild<R> extends ChildOutcome<R> {
  readonly work: WorkDelta;
}

export async function measureInChild<I, R>(
  server: BenchServer,
  database: BenchDatabase,
  spec: Omit<ChildSpec<I>, 'beforeGo'>,
): Promise<MeasuredChild<R>> {
  await server.waitForDisconnect(database);
  let before: WorkReading | undefined;
  const outcome = await runInChild<I, R>({
    ...spec,
    beforeGo: async () => {
      await server.checkpoint();
      before = await readWork(server, database);
    },
  });
  await server.waitForDisconnect(database);
  const after = await readWork(server, database);
  if (before === undefined) throw new Error(`${spec.exportName} never called ready().`);
  return { ...outcome, work: await workBetween(server, before, after) };
}

/** What a throughput workload reports from its process. */
export interface ThroughputResult {
  readonly tasks: number;
  readonly runs: number;
  readonly seconds: number;
  readonly startSeconds?: number;
}

/**
 * A throughput workload in a worker process on a fresh database (dropped afterwards): `input`
 * receives the database's name and URL.
 */
export async function throughputInChild<I>(
  server: BenchServer,
  database: BenchDatabase,
  spec: Omit<ChildSpec<I>, 'beforeGo'>,
): Promise<Throughput> {
  try {
    const measured = await measureInChild<I, ThroughputResult>(server, database, spec);
    return {
      ...measured.result,
      cpuMicros: measured.cpuMicros,
      maxRssBytes: measured.maxRssBytes,
      work: measured.work,
    };
  } finally {
    await server.dropDatabase(database);
  }
}
