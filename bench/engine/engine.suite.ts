/**
 * The engine benchmark (issue 4): SQL-only drivers, no handler work. A 20,000-task map step (time
 * to start the run, then drain rate with 1 and 2 connections), the same with 1,000 tasks (the cost
 * per task must not grow with the map's size), and 1,000 runs of a 3-step chain. Two driver paths
 * are compared in the same rounds, interleaved: our worker's one-statement round trip
 * (pgflow._report_and_claim) and pgflow's three-statement path (read, start_tasks, complete_tasks).
 */
import type pg from 'pg';
import { pgflowMigrations } from '../../migrations/index.ts';
import { range } from '../support/figures.ts';
import { compareRound, perSecond, type Sample, spread } from '../support/measure.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import type { BenchDatabase } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { BATCH, type DriverPath, EngineDriver, WORKER_ID } from './engine.driver.ts';

const PATHS: readonly DriverPath[] = ['report_and_claim', 'start_tasks'];
const CONNECTIONS = [1, 2] as const;

interface Workload {
  readonly key: string;
  readonly title: string;
  readonly flow: string;
  /** Tasks per variant and round. */
  readonly tasks: (quick: boolean) => number;
  /** Creates the flow and starts its runs (untimed by the round; returns the seconds the start took). */
  readonly prepare: (client: pg.Client, tasks: number) => Promise<number>;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const mapWorkload = (size: number, quickSize: number): Workload => ({
  key: `map-${size}`,
  title: `a map step of ${formatNumber(size)} tasks (one run)`,
  flow: 'bench_map',
  tasks: (quick) => (quick ? quickSize : size),
  prepare: async (client, tasks) => {
    await client.query(`select pgflow.create_flow('bench_map', timeout => 120)`);
    await client.query(`select pgflow.add_step('bench_map', 'items', step_type => 'map')`);
    return timed(() =>
      client.query(`select pgflow.start_flow('bench_map', (select jsonb_agg(i) from generate_series(1, $1::int) i))`, [
        tasks,
      ]),
    );
  },
});

const chain1000: Workload = {
  key: 'chain-1000',
  title: '1,000 runs of a 3-step chain (3,000 tasks)',
  flow: 'bench_chain',
  tasks: (quick) => (quick ? 300 : 3000),
  prepare: async (client, tasks) => {
    await client.query(`select pgflow.create_flow('bench_chain', timeout => 120)`);
    await client.query(`select pgflow.add_step('bench_chain', 'a')`);
    await client.query(`select pgflow.add_step('bench_chain', 'b', array['a'])`);
    await client.query(`select pgflow.add_step('bench_chain', 'c', array['b'])`);
    return timed(() =>
      client.query(
        `select pgflow.start_flow('bench_chain', jsonb_build_object('n', i)) from generate_series(1, $1::int) i`,
        [tasks / 3],
      ),
    );
  },
};

const map20000 = mapWorkload(20_000, 2_000);
const map1000 = mapWorkload(1_000, 1_000);
const WORKLOADS: readonly Workload[] = [map20000, map1000, chain1000];

interface Measured {
  readonly workload: Workload;
  readonly connections: number;
  readonly samples: Record<DriverPath, Sample[]>;
  readonly statements: Record<DriverPath, number[]>;
  readonly startSeconds: number[];
}

async function measure(context: BenchContext, workload: Workload, connections: number): Promise<Measured> {
  const tasks = workload.tasks(context.quick);
  const samples = { report_and_claim: [] as Sample[], start_tasks: [] as Sample[] };
  const statements = { report_and_claim: [] as number[], start_tasks: [] as number[] };
  const startSeconds: number[] = [];
  for (let round = 0; round < context.repetitions; round++) {
    const drivers = new Map<pg.Client, EngineDriver>();
    const driverFor = (path: DriverPath, client: pg.Client): EngineDriver => {
      let driver = drivers.get(client);
      if (driver === undefined) {
        driver = new EngineDriver(client, workload.flow, path);
        drivers.set(client, driver);
      }
      return driver;
    };
    const roundStatements = { report_and_claim: 0, start_tasks: 0 };
    const measured = await compareRound(context.server, {
      variants: PATHS,
      migrations: pgflowMigrations,
      setup: async (_path, database: BenchDatabase) => {
        const client = await database.connect('pgflow bench setup');
        try {
          await client.query(
            `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'bench')`,
            [WORKER_ID, workload.flow],
          );
          startSeconds.push(await workload.prepare(client, tasks));
        } finally {
          await client.end();
        }
      },
      connections,
      items: tasks,
      sliceItems: BATCH * 5,
      slice: async (path, clients, budget) => {
        const share = Math.ceil(budget / clients.length);
        const counts = await Promise.all(
          clients.map(async (client) => {
            const driver = driverFor(path, client);
            const before = driver.statements;
            const done = await driver.work(share);
            roundStatements[path] += driver.statements - before;
            return done;
          }),
        );
        return counts.reduce((a, b) => a + b, 0);
      },
    });
    for (const path of PATHS) {
      samples[path].push(measured[path]);
      statements[path].push(roundStatements[path] / measured[path].items);
    }
    context.log(
      `  ${workload.key}, ${connections} conn, round ${round + 1}: ` +
        PATHS.map((path) => `${path} ${formatNumber(perSecond(measured[path]))}`).join(', ') +
        ' tasks/s',
    );
  }
  return { workload, connections, samples, statements, startSeconds };
}

export const engineSuite: BenchSuite = {
  name: 'engine',
  summary: 'SQL-only drivers: a 20,000-task map, a 1,000-task map, 1,000 runs of a 3-step chain',

  async run(context) {
    const results: Measured[] = [];
    for (const workload of WORKLOADS) {
      for (const connections of CONNECTIONS) results.push(await measure(context, workload, connections));
    }
    return report(results, context.repetitions);
  },
};

function report(results: readonly Measured[], repetitions: number): string {
  const rows = results.flatMap((measured) => PATHS.map((path) => ({ measured, path })));
  /** The median over the rounds of a figure per task of a row's path. */
  const perItem = ({ measured, path }: (typeof rows)[number], pick: (s: Sample) => number) =>
    spread(measured.samples[path].map((s) => pick(s) / s.items)).median;
  const maps = results.filter(({ workload }) => workload !== chain1000);
  const chainStarts = results
    .filter(({ workload }) => workload === chain1000)
    .flatMap(({ startSeconds, workload }) => startSeconds.map((seconds) => workload.tasks(false) / 3 / seconds));
  const secondsPerTask = (workload: Workload) =>
    spread(
      results
        .filter((r) => r.workload === workload && r.connections === 1)
        .flatMap((r) => r.samples.report_and_claim.map((s) => s.seconds / s.items)),
    ).median;
  const growth = secondsPerTask(map20000) / secondsPerTask(map1000);

  return [
    '## The engine (SQL-only drivers)',
    '',
    `${repetitions} rounds. Every variant of a round gets a fresh database (the library's migrations, no ` +
      'statistics yet, as right after a deployment), its runs started before the clock, then the two driver ' +
      `paths drain their queues in alternating slices of ${BATCH * 5} tasks. Batches of ${BATCH}. ` +
      '**report_and_claim**: one statement per batch (pgflow.\\_report_and_claim reports the previous batch and ' +
      "claims the next), what the library's worker sends; **start_tasks**: pgflow's path, pgmq.read + " +
      "pgflow.start_tasks + pgflow.complete_tasks. No handler work: a task's output is its input.",
    '',
    tableOf(
      [
        { heading: 'workload', cell: ({ measured }) => measured.workload.key },
        { heading: 'connections', cell: ({ measured }) => String(measured.connections) },
        { heading: 'driver', cell: ({ path }) => path },
        {
          heading: 'tasks/s median (min–max)',
          cell: ({ measured, path }) => range(measured.samples[path].map(perSecond)),
        },
        {
          heading: 'statements/task',
          cell: ({ measured, path }) => formatNumber(spread(measured.statements[path]).median, 3),
        },
        {
          heading: 'commits/task',
          cell: (row) =>
            formatNumber(
              perItem(row, (s) => s.commits),
              3,
            ),
        },
        { heading: 'WAL bytes/task', cell: (row) => formatNumber(perItem(row, (s) => s.walBytes)) },
        { heading: 'client CPU µs/task', cell: (row) => formatNumber(perItem(row, (s) => s.clientCpuMicros)) },
      ],
      rows,
    ),
    '',
    '### Starting a run',
    '',
    tableOf<Measured>(
      [
        { heading: 'map', cell: ({ workload }) => workload.key },
        { heading: 'connections of the round', cell: ({ connections }) => String(connections) },
        { heading: 'start_flow seconds, median (min–max)', cell: ({ startSeconds }) => range(startSeconds, 3) },
      ],
      maps,
    ),
    '',
    `Starting the chain's 1,000 runs one start_flow per run in one statement: ${formatNumber(
      spread(chainStarts).median,
    )} runs/s (median).`,
    '',
    `Cost per task, 20,000-task map ÷ 1,000-task map (1 connection, report_and_claim): ${formatNumber(growth, 2)}.`,
  ].join('\n');
}
