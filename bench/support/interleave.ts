/**
 * Interleaved SQL-only variants whose databases differ (measure.ts's compareRound gives every
 * variant a database with the same migrations): the floor's plain tables next to our engine, our
 * engine next to pgflow's. Same method as compareRound: every variant gets a fresh database and its
 * connections, then the variants run in short alternating slices (A, B, C, C, B, A, ...) until each
 * has done its share, so that the machine's swings hit them alike. Time, WAL, write transactions
 * (server-wide counters) and client CPU are summed over a variant's slices; commits and deadlocks come from its database's pg_stat_database,
 * statements from pg_stat_statements (when loaded), both as differences around the round.
 */
import type pg from 'pg';
import type { Throughput } from './figures.ts';
import type { BenchDatabase, BenchServer, MigrationClass } from './server.ts';
import { readNextXid, readWork, type WorkReading, workBetween } from './work-counters.ts';

export interface InterleavedVariant {
  readonly name: string;
  readonly migrations: readonly MigrationClass[];
  /** Untimed preparation of the variant's database (tables, flows, prefilled work). */
  readonly setup: (database: BenchDatabase) => Promise<void>;
  readonly connections: number;
  /** Tasks the variant handles in the round. */
  readonly items: number;
  /** Tasks per slice (a few milliseconds of work). */
  readonly sliceItems: number;
  /** Handles up to `budget` tasks on the variant's clients; returns how many (0: no work left). */
  readonly slice: (clients: readonly pg.Client[], budget: number) => Promise<number>;
  /** Tasks per run, for runs/s (default 1). */
  readonly tasksPerRun?: number;
}

interface Running<V extends InterleavedVariant> {
  readonly variant: V;
  readonly database: BenchDatabase;
  readonly clients: pg.Client[];
  before: WorkReading | undefined;
  items: number;
  nanos: bigint;
  walBytes: number;
  writeTransactions: number;
  cpuMicros: number;
  done: boolean;
}

/** One round: a Throughput per variant (the map's keys are the variants given). */
export async function interleaveRound<V extends InterleavedVariant>(
  server: BenchServer,
  variants: readonly V[],
): Promise<Map<V, Throughput>> {
  const running: Running<V>[] = [];
  try {
    for (const variant of variants) {
      const database = await server.freshDatabase(variant.migrations);
      running.push({
        variant,
        database,
        clients: [],
        before: undefined,
        items: 0,
        nanos: 0n,
        walBytes: 0,
        writeTransactions: 0,
        cpuMicros: 0,
        done: false,
      });
      await variant.setup(database);
      await server.waitForDisconnect(database);
    }
    await server.checkpoint();
    for (const state of running) {
      for (let i = 0; i < state.variant.connections; i++) {
        state.clients.push(await state.database.connect(`pgflow bench ${state.variant.name} ${i + 1}`));
      }
      state.before = await readWork(server, state.database);
    }

    let order = [...running];
    while (running.some((state) => !state.done)) {
      for (const state of order) {
        if (state.done) continue;
        const budget = Math.min(state.variant.sliceItems, state.variant.items - state.items);
        const walBefore = await server.walLsn();
        const xidBefore = await readNextXid(server);
        const cpuBefore = process.cpuUsage();
        const started = process.hrtime.bigint();
        const handled = await state.variant.slice(state.clients, budget);
        state.nanos += process.hrtime.bigint() - started;
        const cpu = process.cpuUsage(cpuBefore);
        state.cpuMicros += cpu.user + cpu.system;
        state.walBytes += await server.walBytesBetween(walBefore, await server.walLsn());
        // The admin connection's own reads take no transaction id.
        state.writeTransactions += (await readNextXid(server)) - xidBefore;
        state.items += handled;
        state.done = handled === 0 || state.items >= state.variant.items;
      }
      order = order.reverse();
    }

    const results = new Map<V, Throughput>();
    for (const state of running) {
      await Promise.all(state.clients.splice(0).map((client) => client.end()));
      await server.waitForDisconnect(state.database);
      const work = await workBetween(server, state.before as WorkReading, await readWork(server, state.database));
      results.set(state.variant, {
        tasks: state.items,
        runs: state.items / (state.variant.tasksPerRun ?? 1),
        seconds: Number(state.nanos) / 1e9,
        cpuMicros: state.cpuMicros,
        maxRssBytes: Number.NaN,
        work: { ...work, walBytes: state.walBytes, writeTransactions: state.writeTransactions },
      });
    }
    return results;
  } finally {
    for (const state of running) {
      await Promise.all(state.clients.map((client) => client.end().catch(() => {})));
      await server.dropDatabase(state.database);
    }
  }
}

/** Splits `budget` over the clients, runs `loop` on each at once, and adds up what they handled. */
export async function onEachClient(
  clients: readonly pg.Client[],
  budget: number,
  loop: (client: pg.Client, share: number) => Promise<number>,
): Promise<number> {
  const base = Math.floor(budget / clients.length);
  const counts = await Promise.all(
    clients.map((client, i) => loop(client, base + (i < budget % clients.length ? 1 : 0))),
  );
  return counts.reduce((a, b) => a + b, 0);
}
