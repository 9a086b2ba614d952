/**
 * Our library next to its peers (issue 8), each in a fresh database of the same server, each worker
 * in a process of its own (support/child.ts: its CPU time and peak RSS are its own), interleaved in
 * every round (ours, peer, ours, peer, ...):
 * - draining pre-enqueued no-op work: 20,000 one-step runs (library, default and high-throughput
 *   worker settings) against 20,000 graphile-worker jobs (defaults, documented high-throughput
 *   settings) and 20,000 pg-boss jobs (best batch settings);
 * - 3-step chains: the library, graphile-worker hand-chained (a adds b, b adds c), DBOS Transact's
 *   3-step workflow, pgflow's engine (@pgflow/core) driven the way its worker drives it;
 * - our engine against pgflow's, both with SQL-only drivers (support/interleave.ts);
 * - latency, one run or job at a time with a random think time: ours (1 and 3 steps), graphile-worker,
 *   pg-boss, DBOS, pgflow's engine driven like its worker. The samples of all rounds are pooled for
 *   the percentiles (≥ 200 in a full run); the ratios are per round (p50 over p50).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueLayer1764150000000 } from '../../migrations/1764150000000-queue-layer.ts';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot } from '../../tools/local-postgres.ts';
import { EngineDriver, WORKER_ID } from '../engine/engine.driver.ts';
import { runInChild } from '../support/child.ts';
import {
  costCells,
  type LatencyRequest,
  type LatencySamples,
  median,
  percentile,
  perTask,
  range,
  runsPerSecond,
  type Throughput,
  tasksPerSecond,
  verdict,
} from '../support/figures.ts';
import { interleaveRound } from '../support/interleave.ts';
import { throughputInChild } from '../support/measured-child.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchDatabase, BenchServer, MigrationClass } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { hasStatementCounts } from '../support/work-counters.ts';
import type { LatencyInput, LibraryInput } from '../worker/library.workloads.ts';
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

const LIBRARY = new URL('../worker/library.workloads.ts', import.meta.url);
const GRAPHILE = new URL('./graphile.workload.ts', import.meta.url);
const PGBOSS = new URL('./pgboss.workload.ts', import.meta.url);
const DBOS = new URL('./dbos.workload.ts', import.meta.url);
const PGFLOW = new URL('./pgflow-core.workload.ts', import.meta.url);

const PGFLOW_CORE_MIGRATIONS: readonly MigrationClass[] = [QueueLayer1764150000000, PgflowCore1764150500000];
const NONE: readonly MigrationClass[] = [];

/** The library's high-throughput worker settings (the same as the worker suite's). */
const LIBRARY_HIGH_THROUGHPUT = { maxConcurrent: 200, batchSize: 100 } as const;
const DBOS_CONCURRENCY = 50;

interface Sizes {
  readonly drainJobs: number;
  readonly chainRuns: number;
  readonly dbosWorkflows: number;
  /** Runs of pgflow's engine (its worker style, and the SQL-only drivers): it is the slowest here. */
  readonly pgflowRuns: number;
}

function sizes(context: BenchContext): Sizes {
  return context.quick
    ? { drainJobs: 300, chainRuns: 20, dbosWorkflows: 20, pgflowRuns: 20 }
    : { drainJobs: 20_000, chainRuns: 1_000, dbosWorkflows: 500, pgflowRuns: 300 };
}

/** A throughput workload in a worker process: which database, which module, which input. */
interface ChildWorkload {
  readonly key: string;
  /** Runs in a clone of the database with the one-step runs started beforehand (see startedRuns). */
  readonly clonesStartedRuns?: boolean;
  /** Skipped by --quick (which runs one workload per code path, to stay under a minute). */
  readonly skipQuick?: boolean;
  readonly label: string;
  readonly migrations: readonly MigrationClass[];
  readonly module: URL;
  readonly exportName: string;
  readonly input: (database: { name: string; url: string }, sizes: Sizes) => unknown;
}

const DRAIN: readonly ChildWorkload[] = [
  {
    key: 'library-default',
    clonesStartedRuns: true,
    label: 'library, default worker settings (maxConcurrent 10, batchSize 10)',
    migrations: pgflowMigrations,
    module: LIBRARY,
    exportName: 'drainStartedRuns',
    input: (database, s): LibraryInput => ({ database, worker: {}, shape: 'one-step', size: s.drainJobs }),
  },
  {
    key: 'graphile-defaults',
    skipQuick: true,
    label: 'graphile-worker, defaults (concurrency 1)',
    migrations: NONE,
    module: GRAPHILE,
    exportName: 'graphileDrain',
    input: (database, s): GraphileInput => ({ url: database.url, settings: 'defaults', jobs: s.drainJobs }),
  },
  {
    key: 'library-tuned',
    clonesStartedRuns: true,
    skipQuick: true,
    label: `library, maxConcurrent ${LIBRARY_HIGH_THROUGHPUT.maxConcurrent}, batchSize ${LIBRARY_HIGH_THROUGHPUT.batchSize}`,
    migrations: pgflowMigrations,
    module: LIBRARY,
    exportName: 'drainStartedRuns',
    input: (database, s): LibraryInput => ({
      database,
      worker: LIBRARY_HIGH_THROUGHPUT,
      shape: 'one-step',
      size: s.drainJobs,
    }),
  },
  {
    key: 'graphile-tuned',
    label:
      `graphile-worker, high-throughput (concurrency ${GRAPHILE_HIGH_THROUGHPUT.concurrency}, pool ` +
      `${GRAPHILE_HIGH_THROUGHPUT.maxPoolSize}, localQueue ${GRAPHILE_HIGH_THROUGHPUT.preset.worker.localQueue.size}, ` +
      'completeJobBatchDelay 0)',
    migrations: NONE,
    module: GRAPHILE,
    exportName: 'graphileDrain',
    input: (database, s): GraphileInput => ({ url: database.url, settings: 'high-throughput', jobs: s.drainJobs }),
  },
  {
    key: 'pgboss-best',
    label:
      `pg-boss, ${PGBOSS_BEST.workers} work() loops, batchSize ${PGBOSS_BEST.batchSize}, ` +
      `pollingIntervalSeconds ${PGBOSS_BEST.pollingIntervalSeconds}`,
    migrations: NONE,
    module: PGBOSS,
    exportName: 'pgbossDrain',
    input: (database, s): PgBossInput => ({ url: database.url, jobs: s.drainJobs, settings: PGBOSS_BEST }),
  },
];

const CHAIN: readonly ChildWorkload[] = [
  {
    key: 'library-chain',
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
  },
  {
    key: 'graphile-chain',
    label: 'graphile-worker hand-chained a → b → c (high-throughput settings)',
    migrations: NONE,
    module: GRAPHILE,
    exportName: 'graphileChain',
    input: (database, s): GraphileInput => ({ url: database.url, settings: 'high-throughput', jobs: s.chainRuns }),
  },
  {
    key: 'dbos-chain',
    label: `DBOS Transact, 3-step workflow (${DBOS_CONCURRENCY} concurrent callers)`,
    migrations: NONE,
    module: DBOS,
    exportName: 'dbosThroughput',
    input: (database, s): DbosInput => ({
      url: database.url,
      workflows: s.dbosWorkflows,
      concurrency: DBOS_CONCURRENCY,
    }),
  },
  {
    key: 'pgflow-chain',
    label: "pgflow's engine, driven like its worker (its defaults)",
    migrations: PGFLOW_CORE_MIGRATIONS,
    module: PGFLOW,
    exportName: 'pgflowCoreChain',
    input: (database, s): PgflowCoreInput => ({ url: database.url, runs: s.pgflowRuns }),
  },
];

interface LatencyWorkload {
  readonly key: string;
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
const SHORT_THINK: readonly [number, number] = [5, 30];
const PGFLOW_THINK: readonly [number, number] = [5, 5 + PGFLOW_WORKER_DEFAULTS.pollIntervalMs];
const PGBOSS_THINK: readonly [number, number] = [5, 5 + PGBOSS_BEST.pollingIntervalSeconds * 1000];

const LATENCY: readonly LatencyWorkload[] = [
  {
    key: 'library-1',
    label: 'library, 1-step flow (default settings): start() → handler, → wait() resolves',
    migrations: pgflowMigrations,
    module: LIBRARY,
    exportName: 'latencyOf',
    thinkMs: SHORT_THINK,
    samples: 210,
    input: (database, request): LatencyInput => ({ database, steps: 1, ...request }),
  },
  {
    key: 'graphile-1',
    label: 'graphile-worker, one job (defaults): addJob() → handler, → deletion committed',
    migrations: NONE,
    module: GRAPHILE,
    exportName: 'graphileLatency',
    thinkMs: SHORT_THINK,
    samples: 210,
    input: (database, request): GraphileLatencyInput => ({ url: database.url, ...request }),
  },
  {
    key: 'library-3',
    label: 'library, 3-step flow (default settings): start() → first handler, → wait() resolves',
    migrations: pgflowMigrations,
    module: LIBRARY,
    exportName: 'latencyOf',
    thinkMs: SHORT_THINK,
    samples: 210,
    input: (database, request): LatencyInput => ({ database, steps: 3, ...request }),
  },
  {
    key: 'pgflow-3',
    label: "pgflow's engine, 3 steps, driven like its worker: start_flow → first handler, → last complete_task",
    migrations: PGFLOW_CORE_MIGRATIONS,
    module: PGFLOW,
    exportName: 'pgflowCoreLatency',
    thinkMs: PGFLOW_THINK,
    samples: 210,
    input: (database, request): PgflowCoreLatencyInput => ({ url: database.url, ...request }),
  },
  {
    key: 'dbos-3',
    label: 'DBOS Transact, 3-step workflow: startWorkflow → first step, → getResult() resolves',
    migrations: NONE,
    module: DBOS,
    exportName: 'dbosLatency',
    thinkMs: SHORT_THINK,
    samples: 210,
    input: (database, request): DbosLatencyInput => ({ url: database.url, ...request }),
  },
  {
    key: 'pgboss-1',
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
  },
];

/** A peer's process does not print its dependencies' deprecation warnings (pg 8's, through DBOS and graphile-worker). */
function peerOptions(module: URL): string[] {
  return module === LIBRARY ? [] : ['--no-deprecation'];
}

/**
 * The database the library's drains clone: the one-step flow created and its runs started by one
 * FlowClient.startMany() call, once per suite run.
 */
async function startedRuns(context: BenchContext, s: Sizes): Promise<{ database: BenchDatabase; seconds: number }> {
  const database = await context.server.freshDatabase(pgflowMigrations);
  const input: LibraryInput = {
    database: { name: database.name, url: database.url },
    worker: {},
    shape: 'one-step',
    size: s.drainJobs,
  };
  const outcome = await runInChild<LibraryInput, { runs: number; seconds: number }>({
    module: LIBRARY,
    exportName: 'startRunsInBatch',
    input,
    log: context.log,
    timeoutMs: 600_000,
  });
  return { database, seconds: outcome.result.seconds };
}

async function throughput(
  context: BenchContext,
  workload: ChildWorkload,
  s: Sizes,
  started: BenchDatabase | undefined,
): Promise<Throughput> {
  const database =
    workload.clonesStartedRuns && started !== undefined
      ? await context.server.cloneDatabase(started)
      : await context.server.freshDatabase(workload.migrations);
  return throughputInChild(context.server, database, {
    module: workload.module,
    exportName: workload.exportName,
    input: workload.input({ name: database.name, url: database.url }, s),
    log: context.log,
    execArgv: peerOptions(workload.module),
    timeoutMs: 300_000,
  });
}

async function latency(context: BenchContext, workload: LatencyWorkload): Promise<LatencySamples> {
  const request: LatencyRequest = context.quick
    ? { samples: 3, warmup: 1, thinkMs: workload.thinkMs }
    : { samples: Math.ceil(workload.samples / context.repetitions), warmup: 5, thinkMs: workload.thinkMs };
  const database = await context.server.freshDatabase(workload.migrations);
  try {
    const outcome = await runInChild<unknown, LatencySamples>({
      module: workload.module,
      exportName: workload.exportName,
      input: workload.input({ name: database.name, url: database.url }, request),
      log: context.log,
      execArgv: peerOptions(workload.module),
      timeoutMs: 300_000,
    });
    return outcome.result;
  } finally {
    await context.server.dropDatabase(database);
  }
}

/** Our engine and pgflow's, SQL-only drivers, on the same chain runs started beforehand. */
async function enginesRound(server: BenchServer, runs: number): Promise<Map<string, Throughput>> {
  const drivers = new Map<unknown, EngineDriver | PgflowCoreDriver>();
  /** The driver of a connection, made on its first slice and kept for the round. */
  const driverOf = (client: unknown, make: () => EngineDriver | PgflowCoreDriver) => {
    let driver = drivers.get(client);
    if (driver === undefined) {
      driver = make();
      drivers.set(client, driver);
    }
    return driver;
  };
  const setup = async (database: { connect(name: string): Promise<import('pg').Client> }) => {
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
  return interleaveRound(server, [
    {
      name: 'ours',
      migrations: pgflowMigrations,
      setup,
      connections: 1,
      items: runs * 3,
      sliceItems: 300,
      tasksPerRun: 3,
      slice: ([client], budget) =>
        driverOf(client, () => new EngineDriver(client as import('pg').Client, CHAIN_SLUG, 'report_and_claim')).work(
          budget,
        ),
    },
    {
      name: 'pgflow',
      migrations: PGFLOW_CORE_MIGRATIONS,
      setup,
      connections: 1,
      items: runs * 3,
      sliceItems: 300,
      tasksPerRun: 3,
      slice: ([client], budget) =>
        driverOf(client, () => new PgflowCoreDriver(client as import('pg').Client, CHAIN_SLUG, WORKER_ID)).work(budget),
    },
  ]);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

export const peersSuite: BenchSuite = {
  name: 'peers',
  summary: 'the library next to graphile-worker, pg-boss, DBOS and pgflow’s engine: drain, chains, latency',

  async run(context: BenchContext) {
    const s = sizes(context);
    const drained = new Map<string, Throughput[]>();
    const chains = new Map<string, Throughput[]>();
    const engines = new Map<string, Throughput[]>();
    const latencies = new Map<string, LatencySamples[]>();
    const wall = () => `${formatNumber((performance.now() - started) / 1000, 1)} s`;
    let started = performance.now();
    const prepared = await startedRuns(context, s);
    context.log(`  ${formatNumber(s.drainJobs)} one-step runs started by SQL in ${wall()}`);
    for (let round = 0; round < context.repetitions; round++) {
      for (const workload of DRAIN.filter((w) => !(context.quick && w.skipQuick))) {
        started = performance.now();
        const sample = await throughput(context, workload, s, prepared.database);
        push(drained, workload.key, sample);
        context.log(
          `  round ${round + 1}: drain ${workload.key} ${formatNumber(tasksPerSecond(sample))} tasks/s (${wall()})`,
        );
      }
      for (const workload of CHAIN) {
        started = performance.now();
        const sample = await throughput(context, workload, s, prepared.database);
        push(chains, workload.key, sample);
        context.log(
          `  round ${round + 1}: chain ${workload.key} ${formatNumber(runsPerSecond(sample))} runs/s (${wall()})`,
        );
      }
      started = performance.now();
      for (const [name, sample] of await enginesRound(context.server, s.pgflowRuns)) {
        push(engines, name, sample);
        context.log(
          `  round ${round + 1}: SQL-only chain ${name} ${formatNumber(tasksPerSecond(sample))} tasks/s (${wall()})`,
        );
      }
      for (const workload of LATENCY) {
        started = performance.now();
        const sample = await latency(context, workload);
        push(latencies, workload.key, sample);
        context.log(
          `  round ${round + 1}: latency ${workload.key} p50 ${formatNumber(percentile(sample.dispatchMs, 0.5), 1)} / ` +
            `${formatNumber(percentile(sample.completedMs, 0.5), 1)} ms (${wall()})`,
        );
      }
    }
    await context.server.dropDatabase(prepared.database);
    return report({
      startSeconds: prepared.seconds,
      drained,
      chains,
      engines,
      latencies,
      sizes: s,
      repetitions: context.repetitions,
      statements: await hasStatementCounts(context.server),
    });
  },
};

interface Measured {
  /** Seconds the one SQL statement starting the library's one-step runs took. */
  readonly startSeconds: number;
  readonly drained: Map<string, Throughput[]>;
  readonly chains: Map<string, Throughput[]>;
  readonly engines: Map<string, Throughput[]>;
  readonly latencies: Map<string, LatencySamples[]>;
  readonly sizes: Sizes;
  readonly repetitions: number;
  readonly statements: boolean;
}

/** Per-round ratios a ÷ b of a figure, as "median (min–max)", and their median. */
function ratio<T>(a: readonly T[], b: readonly T[], figure: (sample: T) => number): { text: string; median: number } {
  const values = a.flatMap((sample, i) => (b[i] === undefined ? [] : [figure(sample) / figure(b[i] as T)]));
  return { text: range(values, 2), median: median(values) };
}

function costRow(label: string, samples: readonly Throughput[], rate: (s: Throughput) => number): string[] {
  const cost = perTask(samples);
  return [
    label,
    range(samples.map(rate)),
    ...costCells(cost),
    Number.isNaN(cost.maxRssMiB) ? 'n/a' : formatNumber(cost.maxRssMiB),
  ];
}

const COST_HEADINGS = [
  'commits/task',
  'write xacts/task',
  'statements/task',
  'WAL bytes/task',
  'worker CPU µs/task',
  'worker peak RSS MiB',
] as const;

function packageVersion(name: string): string {
  try {
    const text = readFileSync(join(projectRoot(), 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function p50(samples: readonly LatencySamples[], pick: (s: LatencySamples) => number[]): number[] {
  return samples.map((sample) => percentile(pick(sample), 0.5));
}

function report(m: Measured): string {
  const get = (map: Map<string, Throughput[]>, key: string) => map.get(key) ?? [];
  const lat = (key: string) => m.latencies.get(key) ?? [];
  const chainLabel = (key: string) => CHAIN.find((w) => w.key === key)?.label ?? key;

  const drainRows = DRAIN.map((w) => costRow(w.label, get(m.drained, w.key), tasksPerSecond));
  const libTuned = get(m.drained, 'library-tuned');
  const libDefault = get(m.drained, 'library-default');
  const drainRatios = [
    ['library (high-throughput) ÷ graphile-worker (high-throughput)', 'library-tuned', 'graphile-tuned'],
    ['library (high-throughput) ÷ pg-boss (best)', 'library-tuned', 'pgboss-best'],
    ['library (default) ÷ graphile-worker (defaults)', 'library-default', 'graphile-defaults'],
  ].map(([label, a, b]) => [
    label as string,
    ratio(get(m.drained, a as string), get(m.drained, b as string), tasksPerSecond).text,
  ]);
  const bestPeerPerRound = libTuned.map((_, i) =>
    Math.max(
      ...['graphile-tuned', 'pgboss-best'].flatMap((key) => {
        const sample = get(m.drained, key)[i];
        return sample === undefined ? [] : [tasksPerSecond(sample)];
      }),
    ),
  );
  const libOverBest = libTuned.map((sample, i) => tasksPerSecond(sample) / (bestPeerPerRound[i] as number));

  const chainRows = CHAIN.map((w) => {
    const samples = get(m.chains, w.key);
    const row = costRow(w.label, samples, runsPerSecond);
    row.splice(2, 0, range(samples.map(tasksPerSecond)));
    return row;
  });
  const libChain = get(m.chains, 'library-chain');
  const chainRatios = ['graphile-chain', 'dbos-chain', 'pgflow-chain'].map((key) => [
    `library ÷ ${chainLabel(key)}`,
    ratio(libChain, get(m.chains, key), runsPerSecond).text,
  ]);

  const engineRows = [
    ['ours', 'our engine: pgflow._report_and_claim per batch of 100 + pgflow.complete_tasks'],
    ['pgflow', "pgflow's engine: pgmq.read 100 + pgflow.start_tasks + pgflow.complete_task per task"],
  ].map(([key, label]) => costRow(label as string, get(m.engines, key as string), tasksPerSecond).slice(0, 7));
  const engineRatio = ratio(get(m.engines, 'ours'), get(m.engines, 'pgflow'), tasksPerSecond);

  const latencyRows = LATENCY.flatMap((w) => {
    const samples = lat(w.key);
    const dispatch = samples.flatMap((s) => s.dispatchMs);
    const completed = samples.flatMap((s) => s.completedMs);
    const cells = (values: number[]) =>
      [0.5, 0.95, 0.99, 1].map((q) => formatNumber(percentile(values, q), 1)) as [string, string, string, string];
    return [
      [w.label, String(dispatch.length), 'dispatch', ...cells(dispatch)],
      ['', '', 'completed', ...cells(completed)],
    ];
  });
  /** Per round, the p50 of `field` of one latency workload over another's. */
  const p50Ratio = (over: string, under: string, field: 'dispatchMs' | 'completedMs') =>
    ratio(
      p50(lat(over), (s) => s[field]),
      p50(lat(under), (s) => s[field]),
      (v) => v,
    );
  const dispatchRatio = p50Ratio('library-1', 'graphile-1', 'dispatchMs');
  const pgflowOverOurs = p50Ratio('pgflow-3', 'library-3', 'completedMs');
  const dbosOverOurs = p50Ratio('dbos-3', 'library-3', 'completedMs');
  const pgbossOverOurs = p50Ratio('pgboss-1', 'library-1', 'dispatchMs');
  const threeStepP50 = percentile(
    lat('library-3').flatMap((s) => s.completedMs),
    0.5,
  );

  const defaultCost = perTask(libDefault);
  const dbosRatio = ratio(libChain, get(m.chains, 'dbos-chain'), runsPerSecond);
  const graphileChainRatio = ratio(libChain, get(m.chains, 'graphile-chain'), runsPerSecond);
  const targets = [
    [
      `${formatNumber(m.sizes.drainJobs)} one-step runs: library ≥ the best of graphile-worker / pg-boss at their ` +
        'high-throughput settings',
      `library ÷ best peer per round: ${range(libOverBest, 2)}`,
      verdict(median(libOverBest), (v) => v >= 1),
    ],
    [
      `commits per task ≤ 1.2 at the default settings (${formatNumber(m.sizes.drainJobs)} one-step runs)`,
      `${formatNumber(defaultCost.commits, 3)} (write transactions: ${formatNumber(defaultCost.writeTransactions, 3)})`,
      verdict(defaultCost.commits, (v) => v <= 1.2),
    ],
    [
      'statements per task ≤ 1.2 at the default settings',
      defaultCost.statements === null ? 'n/a (pg_stat_statements not loaded)' : formatNumber(defaultCost.statements, 3),
      defaultCost.statements === null ? 'not measured' : verdict(defaultCost.statements, (v) => v <= 1.2),
    ],
    ['3-step chain: ≥ 5× DBOS’s workflows/s', `${dbosRatio.text}×`, verdict(dbosRatio.median, (v) => v >= 5)],
    [
      '3-step chain: ≥ the hand-chained graphile-worker baseline',
      `${graphileChainRatio.text}×`,
      verdict(graphileChainRatio.median, (v) => v >= 1),
    ],
    [
      '1-step dispatch p50 within 1.5× of graphile-worker’s single-job p50',
      `ours ÷ graphile-worker: ${dispatchRatio.text}`,
      verdict(dispatchRatio.median, (v) => v <= 1.5),
    ],
    ['3-step completion p50 under 15 ms', `${formatNumber(threeStepP50, 1)} ms`, verdict(threeStepP50, (v) => v < 15)],
    [
      '3-step completion p50 ≥ 10× lower than pgflow’s engine driven like its worker',
      `pgflow ÷ ours: ${pgflowOverOurs.text}`,
      verdict(pgflowOverOurs.median, (v) => v >= 10),
    ],
  ];

  const d = PGFLOW_WORKER_DEFAULTS;
  return [
    '## The library next to its peers',
    '',
    `${m.repetitions} rounds; in each, every workload in a fresh database of this server and its worker in a ` +
      'Node.js process of its own (worker CPU and peak RSS are that process’s), in the order of the tables ' +
      '(ours, peer, ours, peer, …). Throughput clocks start when the worker is started (drains) or at the first ' +
      'start (chains) and stop when the database shows all work complete. Commits, statements and WAL are ' +
      'the database’s differences from the end of the untimed setup to the worker process’s exit (its boot and ' +
      `shutdown included); statements from pg_stat_statements${m.statements ? '' : ' (not loaded on this server: n/a)'}. ` +
      'Commits are pg_stat_database’s: read-only transactions count too, among them one each time a LISTENing ' +
      'connection reads the notifications that arrived while it was idle (ours and graphile-worker’s listen); ' +
      'write xacts are the transactions that got an id, what costs a WAL flush at commit (server-wide).',
    '',
    `Peers: graphile-worker ${packageVersion('graphile-worker')}, pg-boss ${packageVersion('pg-boss')}, ` +
      `@dbos-inc/dbos-sdk ${packageVersion('@dbos-inc/dbos-sdk')}, @pgflow/core ${packageVersion('@pgflow/core')} ` +
      `(with postgres ${packageVersion('postgres')}): the newest releases whose \`engines\` accept this Node.js ` +
      '(graphile-worker 0.18 needs Node ≥ 22.18, pg-boss 11+ Node ≥ 22).',
    '',
    `### Draining ${formatNumber(m.sizes.drainJobs)} pre-enqueued no-op jobs (one-step runs)`,
    '',
    "The library's runs are started before the clock by one FlowClient.startMany() call (one statement, " +
      `pgflow.start_flows): ${formatNumber(m.startSeconds, 1)} s (${formatNumber(m.sizes.drainJobs / m.startSeconds)} ` +
      'runs/s), once per suite, in a database that every round clones. graphile-worker’s jobs are added by one ' +
      'addJobs() call, pg-boss’s by one insert() call, in each round.',
    '',
    table(['system and settings', 'tasks/s median (min–max)', ...COST_HEADINGS], drainRows),
    '',
    table(
      ['ratio of tasks/s, per round', 'median (min–max)'],
      [...drainRatios, ['library (high-throughput) ÷ the best peer of its round', range(libOverBest, 2)]],
    ),
    '',
    `pg-boss's worker loop sleeps out the rest of its polling interval (0.5 s at least) after every batch, ` +
      'whatever it found, so its rate is at most work() loops × batchSize ÷ interval: it grows with the batch as ' +
      'long as jobs wait. The settings above were the best of those tried here (1 × 1,000: about 2,100 jobs/s; ' +
      '4 × 1,000: 2,600; 1 × 5,000: 11,800; 2 × 5,000: 16,000–26,000; 4 × 5,000: 32,600, one run each, under ' +
      'load); with 4 × 5,000 the 20,000 jobs are taken in about four fetches. graphile-worker’s high-throughput ' +
      'settings are those of its performance page (worker.graphile.org/docs/performance).',
    '',
    `### 3-step chains (${formatNumber(m.sizes.chainRuns)} runs; DBOS ${formatNumber(m.sizes.dbosWorkflows)} ` +
      `workflows, pgflow's engine ${formatNumber(m.sizes.pgflowRuns)} runs: rates per run, fewer where slow)`,
    '',
    'Runs are started inside the clock by 20 concurrent callers of each system’s start API (FlowClient.start(), ' +
      `addJob('a'), pgflow's PgflowSqlClient.startFlow()); DBOS workflows by ${DBOS_CONCURRENCY} concurrent callers ` +
      'of DBOS.startWorkflow() that each await the result (DBOS runs a workflow in the calling process). ' +
      `pgflow's engine (installed from @pgflow/core's migrations on our queue layer, with a no-op realtime.send) is ` +
      "driven by a copy of its edge worker's loop with its defaults: pgmq.read_with_poll (batch " +
      `${d.batchSize}, maxPollSeconds ${d.maxPollSeconds}, pollIntervalMs ${d.pollIntervalMs}, visibility ` +
      `${d.visibilityTimeout} s), pgflow.start_tasks, one pgflow.complete_task per task, maxConcurrent ${d.maxConcurrent}, ` +
      `a pool of ${d.maxPgConnections} \`postgres\` connections, through @pgflow/core's PgflowSqlClient.`,
    '',
    table(['system', 'runs/s median (min–max)', 'tasks/s', ...COST_HEADINGS], chainRows),
    '',
    table(['ratio of runs/s, per round', 'median (min–max)'], chainRatios),
    '',
    `### Our engine and pgflow's, SQL-only drivers (${formatNumber(m.sizes.pgflowRuns)} chain runs started beforehand, 1 connection each)`,
    '',
    table(
      [
        'driver',
        'tasks/s median (min–max)',
        'commits/task',
        'write xacts/task',
        'statements/task',
        'WAL bytes/task',
        'client CPU µs/task',
      ],
      engineRows,
    ),
    '',
    `Ours ÷ pgflow's, tasks/s per round: ${engineRatio.text}.`,
    '',
    '### Latency',
    '',
    'Sequential samples (pooled over the rounds for the percentiles), default settings unless said, with a ' +
      `random think time between them: ${SHORT_THINK.join('–')} ms for the systems woken by notifications ` +
      `(ours, graphile-worker) or running the workflow in the caller (DBOS), ${PGFLOW_THINK.join('–')} ms for ` +
      `pgflow's worker (its read_with_poll checks every ${PGFLOW_WORKER_DEFAULTS.pollIntervalMs} ms) and ` +
      `${PGBOSS_THINK.join('–')} ms for pg-boss (it polls every ${PGBOSS_BEST.pollingIntervalSeconds} s, its ` +
      'shortest; its default is 2 s), so that starts fall at random phases of the poll loops.',
    '',
    table(['system', 'samples', 'from start to', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], latencyRows),
    '',
    table(
      ['ratio of p50s, per round', 'median (min–max)'],
      [
        ['1-step dispatch: ours ÷ graphile-worker', dispatchRatio.text],
        ['1-step dispatch: pg-boss ÷ ours', pgbossOverOurs.text],
        ['3-step completion: pgflow (driven like its worker) ÷ ours', pgflowOverOurs.text],
        ['3-step completion: DBOS ÷ ours', dbosOverOurs.text],
      ],
    ),
    '',
    '### Targets (issue 8)',
    '',
    table(['target', 'measured', 'verdict'], targets),
  ].join('\n');
}
