/**
 * What the peers suite measures: every workload as a named specification (system, settings, worker
 * module, input), which peers.suite.ts runs and whose samples peers.report.ts's rows, ratios and
 * targets read by the specification itself.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { QueueLayer1764150000000 } from '../../migrations/1764150000000-queue-layer.ts';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot } from '../../tools/local-postgres.ts';
import { EngineDriver, WORKER_ID } from '../engine/engine.driver.ts';
import type { LatencyRequest } from '../support/figures.ts';
import type { InterleavedVariant } from '../support/interleave.ts';
import type { BenchDatabase, MigrationClass } from '../support/server.ts';
import type { BenchContext } from '../support/suite.ts';
import type { LatencyInput, LibraryInput } from '../worker/library.workloads.ts';
import type { SqlDrainInput } from '../worker/sql-drain.workloads.ts';
import type { DbosInput, DbosLatencyInput } from './dbos.workload.ts';
import { GRAPHILE_HIGH_THROUGHPUT, type GraphileInput, type GraphileLatencyInput } from './graphile.workload.ts';
import { PGBOSS_BEST, type PgBossInput, type PgBossLatencyInput } from './pgboss.workload.ts';
import { PgflowCoreDriver } from './pgflow-core.driver.ts';
import { PgflowCore1764150500000 } from './pgflow-core.migration.ts';
import {
  CHAIN_SLUG,
  CREATE_CHAIN,
  PGFLOW_WORKER_DEFAULTS,
  type PgflowCoreInput,
  type PgflowCoreLatencyInput,
} from './pgflow-core.workload.ts';

/**
 * The library's workloads run from the repository's build (.build), the same code as the worker
 * suite's, on the repository's packages: this package's compiled copy would find this package's
 * node_modules first (its own pg, for one).
 */
export const LIBRARY = pathToFileURL(join(projectRoot(), '.build', 'bench', 'worker', 'library.workloads.js'));
const SQL_DRAIN = pathToFileURL(join(projectRoot(), '.build', 'bench', 'worker', 'sql-drain.workloads.js'));
const GRAPHILE = new URL('./graphile.workload.ts', import.meta.url);
const PGBOSS = new URL('./pgboss.workload.ts', import.meta.url);
const DBOS = new URL('./dbos.workload.ts', import.meta.url);
const PGFLOW = new URL('./pgflow-core.workload.ts', import.meta.url);

const PGFLOW_CORE_MIGRATIONS: readonly MigrationClass[] = [QueueLayer1764150000000, PgflowCore1764150500000];
const NONE: readonly MigrationClass[] = [];

/** The library's high-throughput worker settings (the same as the worker suite's). */
const LIBRARY_HIGH_THROUGHPUT = { maxConcurrent: 200, batchSize: 100 } as const;
/**
 * The library's best settings for draining a backlog of short tasks, of those tried (see the report's
 * note): batches of half the slots, so that one batch's report and claim runs while the other's handlers do.
 */
export const LIBRARY_LARGE_BATCHES = { maxConcurrent: 1000, batchSize: 500 } as const;
export const DBOS_CONCURRENCY = 50;

export interface Sizes {
  readonly drainJobs: number;
  readonly chainRuns: number;
  readonly dbosWorkflows: number;
  /** Runs of pgflow's engine (its worker style, and the SQL-only drivers): it is the slowest here. */
  readonly pgflowRuns: number;
}

export function sizes(context: BenchContext): Sizes {
  return context.quick
    ? { drainJobs: 300, chainRuns: 20, dbosWorkflows: 20, pgflowRuns: 20 }
    : { drainJobs: 20_000, chainRuns: 1_000, dbosWorkflows: 500, pgflowRuns: 300 };
}

/** A throughput workload in a worker process: which database, which module, which input. */
export interface ChildWorkload {
  /** For the progress output. */
  readonly name: string;
  readonly label: string;
  /** Runs in a clone of the database with the one-step runs started beforehand (see startedRuns). */
  readonly clonesStartedRuns?: boolean;
  /** Skipped by --quick (which runs one workload per code path, to stay under a minute). */
  readonly skipQuick?: boolean;
  readonly migrations: readonly MigrationClass[];
  readonly module: URL;
  readonly exportName: string;
  readonly input: (database: { name: string; url: string }, sizes: Sizes) => unknown;
}

export const libraryDefault: ChildWorkload = {
  name: 'library-default',
  label: 'library, default worker settings (maxConcurrent 10, batchSize 10)',
  clonesStartedRuns: true,
  migrations: pgflowMigrations,
  module: LIBRARY,
  exportName: 'drainStartedRuns',
  input: (database, s): LibraryInput => ({ database, worker: {}, shape: 'one-step', size: s.drainJobs }),
};

export const graphileDefaults: ChildWorkload = {
  name: 'graphile-defaults',
  label: 'graphile-worker, defaults (concurrency 1)',
  skipQuick: true,
  migrations: NONE,
  module: GRAPHILE,
  exportName: 'graphileDrain',
  input: (database, s): GraphileInput => ({ url: database.url, settings: 'defaults', jobs: s.drainJobs }),
};

/** The library draining the started runs at tuned worker settings (skipped by --quick). */
function libraryTunedDrain(name: string, worker: { maxConcurrent: number; batchSize: number }): ChildWorkload {
  return {
    name,
    label: `library, maxConcurrent ${worker.maxConcurrent}, batchSize ${worker.batchSize}`,
    clonesStartedRuns: true,
    skipQuick: true,
    migrations: pgflowMigrations,
    module: LIBRARY,
    exportName: 'drainStartedRuns',
    input: (database, s): LibraryInput => ({ database, worker, shape: 'one-step', size: s.drainJobs }),
  };
}

export const libraryTuned = libraryTunedDrain('library-tuned', LIBRARY_HIGH_THROUGHPUT);
export const libraryLargeBatches = libraryTunedDrain('library-large-batches', LIBRARY_LARGE_BATCHES);

export const graphileTuned: ChildWorkload = {
  name: 'graphile-tuned',
  label:
    `graphile-worker, high-throughput (concurrency ${GRAPHILE_HIGH_THROUGHPUT.concurrency}, pool ` +
    `${GRAPHILE_HIGH_THROUGHPUT.maxPoolSize}, localQueue ${GRAPHILE_HIGH_THROUGHPUT.preset.worker.localQueue.size}, ` +
    'completeJobBatchDelay 0)',
  migrations: NONE,
  module: GRAPHILE,
  exportName: 'graphileDrain',
  input: (database, s): GraphileInput => ({ url: database.url, settings: 'high-throughput', jobs: s.drainJobs }),
};

export const pgbossBest: ChildWorkload = {
  name: 'pgboss-best',
  label:
    `pg-boss, ${PGBOSS_BEST.workers} work() loops, batchSize ${PGBOSS_BEST.batchSize}, ` +
    `pollingIntervalSeconds ${PGBOSS_BEST.pollingIntervalSeconds}`,
  migrations: NONE,
  module: PGBOSS,
  exportName: 'pgbossDrain',
  input: (database, s): PgBossInput => ({ url: database.url, jobs: s.drainJobs, settings: PGBOSS_BEST }),
};

/**
 * The drain without the library (see ../worker/sql-drain.workloads.ts): the library's started runs
 * (BenchOneStepFlow) from 2 connections in batches of the library's large batches.
 */
function sqlDrain(name: string, label: string, exportName: string): ChildWorkload {
  return {
    name,
    label,
    clonesStartedRuns: true,
    skipQuick: true,
    migrations: pgflowMigrations,
    module: SQL_DRAIN,
    exportName,
    input: (database, s): SqlDrainInput => ({
      database,
      flowSlug: 'bench_one_step',
      stepSlug: 'only',
      runs: s.drainJobs,
      batch: LIBRARY_LARGE_BATCHES.batchSize,
      connections: 2,
    }),
  };
}

export const engineAloneDrain = sqlDrain(
  'engine-alone',
  `the engine alone (SQL, no handler): pgflow._report_and_claim from 2 connections, batches of ${LIBRARY_LARGE_BATCHES.batchSize}`,
  'engineSqlDrain',
);
export const rowsAloneDrain = sqlDrain(
  'rows-alone',
  "pgflow's rows alone (SQL): the same rows changed by 2 hand-written statements per batch, no engine function, no event",
  'rowsByHandDrain',
);

/** Draining pre-enqueued no-op jobs, in the order they run in a round (ours, peer, ours, peer, ...). */
export const DRAIN: readonly ChildWorkload[] = [
  libraryDefault,
  graphileDefaults,
  libraryTuned,
  graphileTuned,
  libraryLargeBatches,
  pgbossBest,
  engineAloneDrain,
  rowsAloneDrain,
];

export const libraryChain: ChildWorkload = {
  name: 'library-chain',
  label: `library (maxConcurrent ${LIBRARY_HIGH_THROUGHPUT.maxConcurrent}, batchSize ${LIBRARY_HIGH_THROUGHPUT.batchSize})`,
  migrations: pgflowMigrations,
  module: LIBRARY,
  exportName: 'startAndDrain',
  input: (database, s): LibraryInput => ({
    database,
    worker: LIBRARY_HIGH_THROUGHPUT,
    shape: 'chain',
    size: s.chainRuns,
    starters: 20,
  }),
};

export const graphileChain: ChildWorkload = {
  name: 'graphile-chain',
  label: 'graphile-worker hand-chained a → b → c (high-throughput settings)',
  migrations: NONE,
  module: GRAPHILE,
  exportName: 'graphileChain',
  input: (database, s): GraphileInput => ({ url: database.url, settings: 'high-throughput', jobs: s.chainRuns }),
};

export const dbosChain: ChildWorkload = {
  name: 'dbos-chain',
  label: `DBOS Transact, 3-step workflow (${DBOS_CONCURRENCY} concurrent callers)`,
  migrations: NONE,
  module: DBOS,
  exportName: 'dbosThroughput',
  input: (database, s): DbosInput => ({ url: database.url, workflows: s.dbosWorkflows, concurrency: DBOS_CONCURRENCY }),
};

export const pgflowChain: ChildWorkload = {
  name: 'pgflow-chain',
  label: "pgflow's engine, driven like its worker (its defaults)",
  migrations: PGFLOW_CORE_MIGRATIONS,
  module: PGFLOW,
  exportName: 'pgflowCoreChain',
  input: (database, s): PgflowCoreInput => ({ url: database.url, runs: s.pgflowRuns }),
};

/** 3-step chains, ours first. */
export const CHAIN: readonly ChildWorkload[] = [libraryChain, graphileChain, dbosChain, pgflowChain];

export interface LatencyWorkload {
  readonly name: string;
  readonly label: string;
  readonly migrations: readonly MigrationClass[];
  readonly module: URL;
  readonly exportName: string;
  /** The think time between samples: it spans the system's poll interval (see LatencyRequest). */
  readonly thinkMs: readonly [number, number];
  /** Samples over all rounds of a full run. */
  readonly samples: number;
  readonly input: (database: { name: string; url: string }, request: LatencyRequest) => unknown;
}

/** Think time of the systems that wake up on notifications (or run in the caller): no poll loop to dephase. */
export const SHORT_THINK: readonly [number, number] = [5, 30];
export const PGFLOW_THINK: readonly [number, number] = [5, 5 + PGFLOW_WORKER_DEFAULTS.pollIntervalMs];
export const PGBOSS_THINK: readonly [number, number] = [5, 5 + PGBOSS_BEST.pollingIntervalSeconds * 1000];

export const library1: LatencyWorkload = {
  name: 'library-1',
  label: 'library, 1-step flow (default settings): start() → handler, → wait() resolves',
  migrations: pgflowMigrations,
  module: LIBRARY,
  exportName: 'latencyOf',
  thinkMs: SHORT_THINK,
  samples: 210,
  input: (database, request): LatencyInput => ({ database, steps: 1, ...request }),
};

export const graphile1: LatencyWorkload = {
  name: 'graphile-1',
  label: 'graphile-worker, one job (defaults): addJob() → handler, → deletion committed',
  migrations: NONE,
  module: GRAPHILE,
  exportName: 'graphileLatency',
  thinkMs: SHORT_THINK,
  samples: 210,
  input: (database, request): GraphileLatencyInput => ({ url: database.url, ...request }),
};

export const library3: LatencyWorkload = {
  name: 'library-3',
  label: 'library, 3-step flow (default settings): start() → first handler, → wait() resolves',
  migrations: pgflowMigrations,
  module: LIBRARY,
  exportName: 'latencyOf',
  thinkMs: SHORT_THINK,
  samples: 210,
  input: (database, request): LatencyInput => ({ database, steps: 3, ...request }),
};

export const pgflow3: LatencyWorkload = {
  name: 'pgflow-3',
  label: "pgflow's engine, 3 steps, driven like its worker: start_flow → first handler, → last complete_task",
  migrations: PGFLOW_CORE_MIGRATIONS,
  module: PGFLOW,
  exportName: 'pgflowCoreLatency',
  thinkMs: PGFLOW_THINK,
  samples: 210,
  input: (database, request): PgflowCoreLatencyInput => ({ url: database.url, ...request }),
};

export const dbos3: LatencyWorkload = {
  name: 'dbos-3',
  label: 'DBOS Transact, 3-step workflow: startWorkflow → first step, → getResult() resolves',
  migrations: NONE,
  module: DBOS,
  exportName: 'dbosLatency',
  thinkMs: SHORT_THINK,
  samples: 210,
  input: (database, request): DbosLatencyInput => ({ url: database.url, ...request }),
};

export const pgboss1: LatencyWorkload = {
  name: 'pgboss-1',
  label: `pg-boss, one job (polling every ${PGBOSS_BEST.pollingIntervalSeconds} s): send() → handler, → completion committed`,
  migrations: NONE,
  module: PGBOSS,
  exportName: 'pgbossLatency',
  thinkMs: PGBOSS_THINK,
  // Every sample waits for a poll (0.25 s on average) and a think time that spans the interval.
  samples: 60,
  input: (database, request): PgBossLatencyInput => ({
    url: database.url,
    pollingIntervalSeconds: PGBOSS_BEST.pollingIntervalSeconds,
    ...request,
  }),
};

export const LATENCY: readonly LatencyWorkload[] = [library1, graphile1, library3, pgflow3, dbos3, pgboss1];

/** A SQL-only driver variant of the engines' comparison, and its row's label. */
export interface EngineVariant extends InterleavedVariant {
  readonly label: string;
}

/** Our engine and pgflow's, SQL-only drivers, on the same `runs` chain runs started beforehand. */
export function engineVariants(runs: number): { readonly ours: EngineVariant; readonly pgflow: EngineVariant } {
  /** The driver of a connection, made on its first slice and kept for its round. */
  const drivers = new WeakMap<pg.Client, EngineDriver | PgflowCoreDriver>();
  const driverOf = (client: pg.Client, make: () => EngineDriver | PgflowCoreDriver) => {
    let driver = drivers.get(client);
    if (driver === undefined) {
      driver = make();
      drivers.set(client, driver);
    }
    return driver;
  };
  const setup = async (database: BenchDatabase) => {
    const client = await database.connect('pgflow bench setup');
    try {
      for (const sql of CREATE_CHAIN) await client.query(sql);
      await client.query(`insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'x')`, [
        WORKER_ID,
        CHAIN_SLUG,
      ]);
      await client.query(
        `select count(*) from generate_series(1, $1::int) i, lateral pgflow.start_flow('${CHAIN_SLUG}', jsonb_build_object('n', i))`,
        [runs],
      );
    } finally {
      await client.end();
    }
  };
  const shared = { setup, connections: 1, items: runs * 3, sliceItems: 300, tasksPerRun: 3 } as const;
  return {
    ours: {
      name: 'ours',
      label: 'our engine: pgflow._report_and_claim per batch of 100 + pgflow.complete_tasks',
      migrations: pgflowMigrations,
      ...shared,
      slice: ([client], budget) =>
        driverOf(client as pg.Client, () => new EngineDriver(client as pg.Client, CHAIN_SLUG, 'report_and_claim')).work(
          budget,
        ),
    },
    pgflow: {
      name: 'pgflow',
      label: "pgflow's engine: pgmq.read 100 + pgflow.start_tasks + pgflow.complete_task per task",
      migrations: PGFLOW_CORE_MIGRATIONS,
      ...shared,
      slice: ([client], budget) =>
        driverOf(client as pg.Client, () => new PgflowCoreDriver(client as pg.Client, CHAIN_SLUG, WORKER_ID)).work(
          budget,
        ),
    },
  };
}
