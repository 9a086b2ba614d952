/**
 * Comparing variants of one workload. This machine's fsync rate swings by 2-3x from one second to
 * the next (PERF.md: "noisy"), so variants measured one after the other in whole runs are not
 * comparable. A round therefore gives every variant its own fresh database and connections, then
 * runs the variants in short alternating slices (A, B, B, A, A, B, ...) of a few milliseconds until each has done its
 * share: whatever the machine does during the round hits all of them alike. Time, WAL and client
 * CPU are summed over a variant's slices; commits come from its database's pg_stat_database.
 */
import type pg from 'pg';
import type { BenchDatabase, BenchServer, MigrationClass } from './server.ts';

export interface Sample {
  /** Items (messages, tasks) handled. */
  readonly items: number;
  readonly seconds: number;
  readonly commits: number;
  /** WAL written during the variant's slices (server-wide: other activity on the server adds to it). */
  readonly walBytes: number;
  /** Node's CPU time (user + system) during the variant's slices, in microseconds. */
  readonly clientCpuMicros: number;
}

export interface Comparison<V extends string> {
  readonly variants: readonly V[];
  /**
   * The migrations every fresh database starts with; a function for variants that differ in them
   * (e.g. the engine before and after a migration).
   */
  readonly migrations: readonly MigrationClass[] | ((variant: V) => readonly MigrationClass[]);
  /** Untimed preparation of a variant's database (tables, queues, prefilled messages). */
  readonly setup: (variant: V, database: BenchDatabase) => Promise<void>;
  /** Connections each variant gets, all open before any clock starts. */
  readonly connections: number;
  /** Items each variant handles in the round. */
  readonly items: number;
  /** Items per slice. */
  readonly sliceItems: number;
  /**
   * Timed work: handles up to `budget` items on the variant's clients and returns how many it
   * handled; 0 means the variant has no work left.
   */
  readonly slice: (variant: V, clients: readonly pg.Client[], budget: number) => Promise<number>;
}

interface Running {
  readonly database: BenchDatabase;
  readonly clients: pg.Client[];
  commitsBefore: number;
  items: number;
  nanos: bigint;
  walBytes: number;
  cpuMicros: number;
  done: boolean;
}

/** One round of a comparison; returns a sample per variant. */
export async function compareRound<V extends string>(
  server: BenchServer,
  comparison: Comparison<V>,
): Promise<Record<V, Sample>> {
  const running = new Map<V, Running>();
  try {
    for (const variant of comparison.variants) {
      const migrations =
        typeof comparison.migrations === 'function' ? comparison.migrations(variant) : comparison.migrations;
      const database = await server.freshDatabase(migrations);
      running.set(variant, {
        database,
        clients: [],
        commitsBefore: 0,
        items: 0,
        nanos: 0n,
        walBytes: 0,
        cpuMicros: 0,
        done: false,
      });
      await comparison.setup(variant, database);
      // The setup connection's statistics must be in before the "before" counters are read.
      await server.waitForDisconnect(database);
    }
    await server.checkpoint();
    for (const state of running.values()) {
      for (let i = 0; i < comparison.connections; i++) {
        state.clients.push(await state.database.connect(`pgflow bench worker ${i + 1}`));
      }
      state.commitsBefore = (await server.counters(state.database)).commits;
    }

    let order = [...comparison.variants];
    while ([...running.values()].some((state) => !state.done)) {
      for (const variant of order) {
        const state = running.get(variant) as Running;
        if (state.done) continue;
        const budget = Math.min(comparison.sliceItems, comparison.items - state.items);
        const walBefore = await server.walLsn();
        const cpuBefore = process.cpuUsage();
        const started = process.hrtime.bigint();
        const handled = await comparison.slice(variant, state.clients, budget);
        state.nanos += process.hrtime.bigint() - started;
        const cpu = process.cpuUsage(cpuBefore);
        state.cpuMicros += cpu.user + cpu.system;
        state.walBytes += await server.walBytesBetween(walBefore, await server.walLsn());
        state.items += handled;
        state.done = handled === 0 || state.items >= comparison.items;
      }
      order = order.reverse();
    }

    const samples = {} as Record<V, Sample>;
    for (const [variant, state] of running) {
      await Promise.all(state.clients.splice(0).map((client) => client.end()));
      await server.waitForDisconnect(state.database);
      samples[variant] = {
        items: state.items,
        seconds: Number(state.nanos) / 1e9,
        commits: (await server.counters(state.database)).commits - state.commitsBefore,
        walBytes: state.walBytes,
        clientCpuMicros: state.cpuMicros,
      };
    }
    return samples;
  } finally {
    for (const state of running.values()) {
      await Promise.all(state.clients.map((client) => client.end().catch(() => {})));
      await server.dropDatabase(state.database);
    }
  }
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

export function perSecond(sample: Sample): number {
  return sample.items / sample.seconds;
}
