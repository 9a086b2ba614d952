/**
 * The library benchmark (issue 5): one Nest application with the library's worker, no-op handlers.
 * Throughput of a 20,000-item map step and of 1,000 runs of a 3-step chain, each round next to the
 * same workload driven by the engine's SQL-only driver (target: the library at 80% or more of it),
 * and latency: start() to the first handler, and start() to wait() resolving, over sequential runs
 * with a random think time between them.
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { EngineDriver, WORKER_ID } from '../engine/engine.driver.ts';
import { latencyColumns, range, sequentialLatency } from '../support/figures.ts';
import { spread } from '../support/measure.ts';
import { formatNumber, table, tableOf } from '../support/results.ts';
import type { BenchDatabase, BenchServer } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { BenchChainFlow, BenchMapFlow, firstHandlerAt } from './bench-flows.ts';
import { measureProcessWorkloads, reportProcessWorkloads } from './process-workloads.ts';
import { startWorkerApp } from './worker-app.ts';

/** The worker settings of the throughput workloads (the latency ones use the defaults). */
const THROUGHPUT_WORKER = { maxConcurrent: 200, batchSize: 100 } as const;
const ENGINE_CONNECTIONS = 2;

interface Throughput {
  readonly tasks: number;
  readonly seconds: number;
  readonly commits: number;
  readonly cpuMicros: number;
  readonly peakRssBytes: number;
}

async function poll(database: BenchDatabase, sql: string, until: (value: number) => boolean): Promise<void> {
  const client = await database.connect('pgflow bench probe');
  try {
    for (;;) {
      const { rows } = await client.query<{ value: string }>(sql);
      if (until(Number(rows[0]?.value ?? 0))) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await client.end();
  }
}

/** Runs `work` in a fresh database and counts what it cost. */
async function measured(
  server: BenchServer,
  tasks: number,
  work: (database: BenchDatabase) => Promise<() => Promise<void>>,
): Promise<Throughput> {
  const database = await server.freshDatabase(pgflowMigrations);
  try {
    // `work` prepares (outside the clock) and returns the timed part.
    const timedPart = await work(database);
    await server.checkpoint();
    const commitsBefore = (await server.counters(database)).commits;
    let peakRssBytes = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
    }, 20);
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    try {
      await timedPart();
    } finally {
      clearInterval(sampler);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    await server.waitForDisconnect(database);
    const commits = (await server.counters(database)).commits - commitsBefore;
    return { tasks, seconds, commits, cpuMicros: cpu.user + cpu.system, peakRssBytes };
  } finally {
    await server.dropDatabase(database);
  }
}

/** The library: the app boots, the run starts, the clock runs until the run completes. */
function libraryMap(server: BenchServer, size: number): Promise<Throughput> {
  return measured(server, size, async (database) => {
    const app = await startWorkerApp(database, THROUGHPUT_WORKER);
    return async () => {
      try {
        const run = await app.client.start(
          BenchMapFlow,
          Array.from({ length: size }, (_, i) => i),
        );
        await run.wait();
      } finally {
        await app.close();
      }
    };
  });
}

function libraryChain(server: BenchServer, runs: number): Promise<Throughput> {
  return measured(server, runs * 3, async (database) => {
    const app = await startWorkerApp(database, THROUGHPUT_WORKER);
    return async () => {
      try {
        // Started as the engine alone starts them, in one statement (the chains started one
        // start() call at a time are measured by the worker-process and peers workloads).
        await app.client.startMany(
          BenchChainFlow,
          Array.from({ length: runs }, (_, i) => ({ n: i + 1 })),
        );
        await poll(
          database,
          `select count(*) as value from pgflow.runs where status = 'completed'`,
          (done) => done >= runs,
        );
      } finally {
        await app.close();
      }
    };
  });
}

/** The engine alone: SQL-only drivers on the same workload (see bench/engine). */
function engine(server: BenchServer, flow: 'bench_map' | 'bench_chain', tasks: number): Promise<Throughput> {
  return measured(server, tasks, async (database) => {
    const setup = await database.connect('pgflow bench setup');
    try {
      await setup.query(`insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'x')`, [
        WORKER_ID,
        flow,
      ]);
      if (flow === 'bench_map') {
        await setup.query(`select pgflow.create_flow('bench_map', timeout => 120)`);
        await setup.query(`select pgflow.add_step('bench_map', 'item', step_type => 'map')`);
      } else {
        await setup.query(`select pgflow.create_flow('bench_chain', timeout => 120)`);
        await setup.query(`select pgflow.add_step('bench_chain', 'a')`);
        await setup.query(`select pgflow.add_step('bench_chain', 'b', array['a'])`);
        await setup.query(`select pgflow.add_step('bench_chain', 'c', array['b'])`);
      }
    } finally {
      await setup.end();
    }
    const clients = await Promise.all(
      Array.from({ length: ENGINE_CONNECTIONS }, (_, i) => database.connect(`pgflow bench engine ${i}`)),
    );
    return async () => {
      try {
        const [first] = clients;
        if (flow === 'bench_map') {
          await first?.query(
            `select pgflow.start_flow('bench_map', (select jsonb_agg(i) from generate_series(1, $1::int) i))`,
            [tasks],
          );
        } else {
          await first?.query(
            `select count(*) from pgflow.start_flows('bench_chain',
               (select jsonb_agg(jsonb_build_object('n', i)) from generate_series(1, $1::int) i))`,
            [tasks / 3],
          );
        }
        await Promise.all(
          clients.map(async (client) => {
            const driver = new EngineDriver(client, flow, 'report_and_claim');
            while ((await driver.work(1_000)) > 0) {
              // until the queue is empty
            }
          }),
        );
      } finally {
        await Promise.all(clients.map((client) => client.end()));
      }
    };
  });
}

interface Latency {
  readonly firstHandlerMs: number[];
  readonly completedMs: number[];
}

async function latency(
  server: BenchServer,
  flow: 'bench_latency_1' | 'bench_latency_3',
  runs: number,
): Promise<Latency> {
  const database = await server.freshDatabase(pgflowMigrations);
  const app = await startWorkerApp(database, {});
  try {
    // A random think time, so that starts are not in phase with anything periodic.
    const { dispatchMs, completedMs } = await sequentialLatency(
      { samples: runs, warmup: 5, thinkMs: [5, 30] },
      async () => {
        const run = await app.client.start(flow, {});
        await run.wait({ timeoutMs: 30_000 });
        return firstHandlerAt.get(run.runId);
      },
    );
    return { firstHandlerMs: dispatchMs, completedMs };
  } finally {
    await app.close();
    await server.dropDatabase(database);
  }
}

export const workerSuite: BenchSuite = {
  name: 'worker',
  summary:
    'the library in a Nest app: 20,000-item map, 1,000 chain runs, latency (vs the SQL-only engine); in a worker process: 5,000 one-step runs, map+reduce, chain, diamond',

  async run(context: BenchContext) {
    const mapSize = context.quick ? 2_000 : 20_000;
    const chainRuns = context.quick ? 100 : 1_000;
    const latencyRuns = context.quick ? 20 : 200;
    const pairs = { map: [] as Array<[Throughput, Throughput]>, chain: [] as Array<[Throughput, Throughput]> };
    for (let round = 0; round < context.repetitions; round++) {
      // Interleaved: library, engine, library, engine...
      const map: [Throughput, Throughput] = [
        await libraryMap(context.server, mapSize),
        await engine(context.server, 'bench_map', mapSize),
      ];
      const chain: [Throughput, Throughput] = [
        await libraryChain(context.server, chainRuns),
        await engine(context.server, 'bench_chain', chainRuns * 3),
      ];
      pairs.map.push(map);
      pairs.chain.push(chain);
      context.log(
        `  round ${round + 1}: map library ${formatNumber(rate(map[0]))} vs engine ${formatNumber(rate(map[1]))} tasks/s; ` +
          `chain library ${formatNumber(rate(chain[0]))} vs engine ${formatNumber(rate(chain[1]))} tasks/s`,
      );
    }
    const one = await latency(context.server, 'bench_latency_1', latencyRuns);
    const three = await latency(context.server, 'bench_latency_3', latencyRuns);
    const inProcess = report(pairs, one, three, { mapSize, chainRuns, latencyRuns, repetitions: context.repetitions });
    const processSamples = await measureProcessWorkloads(context);
    const overEngine = (list: Array<[Throughput, Throughput]>) =>
      list.map(([library, engineSample]) => rate(library) / rate(engineSample));
    return `${inProcess}\n\n${reportProcessWorkloads(
      processSamples,
      {
        mapOverEngine: overEngine(pairs.map),
        chainOverEngine: overEngine(pairs.chain),
        firstHandlerMs: one.firstHandlerMs,
        threeStepCompletedMs: three.completedMs,
      },
      context,
    )}`;
  },
};

function rate(sample: Throughput): number {
  return sample.tasks / sample.seconds;
}

/** A row of the latency table: what is measured, and its samples. */
interface LatencyRow {
  readonly measure: string;
  readonly values: readonly number[];
}

function report(
  pairs: { map: Array<[Throughput, Throughput]>; chain: Array<[Throughput, Throughput]> },
  one: Latency,
  three: Latency,
  sizes: { mapSize: number; chainRuns: number; latencyRuns: number; repetitions: number },
): string {
  const throughputRow = (name: string, list: Array<[Throughput, Throughput]>, unit: number) => [
    name,
    range(list.map(([library]) => rate(library) / unit)),
    range(list.map(([, engineSample]) => rate(engineSample) / unit)),
    range(
      list.map(([library, engineSample]) => rate(library) / rate(engineSample)),
      2,
    ),
    formatNumber(spread(list.map(([library]) => library.commits / library.tasks)).median, 3),
    formatNumber(spread(list.map(([library]) => library.cpuMicros / library.tasks)).median),
    formatNumber(spread(list.map(([library]) => library.peakRssBytes / 1024 ** 2)).median),
  ];
  const latencyRows: readonly LatencyRow[] = [
    { measure: '1-step flow: start() → handler runs', values: one.firstHandlerMs },
    { measure: '1-step flow: start() → wait() resolves', values: one.completedMs },
    { measure: '3-step flow: start() → first handler runs', values: three.firstHandlerMs },
    { measure: '3-step flow: start() → wait() resolves', values: three.completedMs },
  ];
  return [
    '## The library (a Nest worker)',
    '',
    `${sizes.repetitions} rounds, each in fresh databases: the library (one Nest application, worker ` +
      `maxConcurrent ${THROUGHPUT_WORKER.maxConcurrent}, batchSize ${THROUGHPUT_WORKER.batchSize}, no-op handlers; ` +
      'the clock runs from the start to the last completion; the map is one start(), the chains one ' +
      'startMany()) next to the engine alone (the SQL-only driver of bench/engine, report_and_claim, ' +
      `${ENGINE_CONNECTIONS} connections, its runs started by one statement inside the clock too: start_flow for ` +
      'the map, start_flows for the chains), interleaved.',
    '',
    table(
      [
        'workload',
        'library, median (min–max)',
        'engine alone',
        'library ÷ engine',
        'commits/task (library)',
        'worker CPU µs/task',
        'peak RSS MiB',
      ],
      [
        throughputRow(`${formatNumber(sizes.mapSize)}-item map step, tasks/s`, pairs.map, 1),
        throughputRow(`${formatNumber(sizes.chainRuns)} runs of a 3-step chain, runs/s`, pairs.chain, 3),
      ],
    ),
    '',
    `### Latency (${sizes.latencyRuns} sequential runs each, default worker settings, idle system, random think time)`,
    '',
    tableOf<LatencyRow>(
      [{ heading: 'measure', cell: (row) => row.measure }, ...latencyColumns((row: LatencyRow) => row.values)],
      latencyRows,
    ),
  ].join('\n');
}
