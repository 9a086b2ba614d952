/**
 * The worker suite's workloads that run in a worker process of their own (library.workloads.ts,
 * ../support/child.ts), so that the worker's CPU time and peak RSS are its own: 5,000 one-step
 * runs started through FlowClient.start() while the worker drains them, a 10,000-item map step
 * followed by one reduce step, 1,000 runs of a 3-step chain and 200 runs of a wide diamond
 * (root → 50 parallel steps → join), each round in fresh databases; and the targets of issues 5
 * and 8 that these and the suite's other figures decide.
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import {
  costCells,
  median,
  percentile,
  perTask,
  range,
  runsPerSecond,
  type Throughput,
  tasksPerSecond,
  verdict,
} from '../support/figures.ts';
import { throughputInChild } from '../support/measured-child.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext } from '../support/suite.ts';
import type { LibraryInput, LibraryShape } from './library.workloads.ts';
import { DIAMOND_WIDTH } from './throughput-flows.ts';

const LIBRARY = new URL('./library.workloads.ts', import.meta.url);
/** The worker settings of these workloads (the same as the suite's other throughput workloads). */
export const PROCESS_WORKER = { maxConcurrent: 200, batchSize: 100 } as const;
const STARTERS = 32;
const RSS_LIMIT_MIB = 200;

interface Workload {
  readonly key: 'one-step' | 'map-reduce' | 'chain' | 'diamond';
  readonly title: (size: number) => string;
  readonly shape: LibraryShape;
  readonly size: (quick: boolean) => number;
}

const WORKLOADS: readonly Workload[] = [
  {
    key: 'one-step',
    title: (n) => `${formatNumber(n)} one-step runs, started by ${STARTERS} concurrent FlowClient.start() callers`,
    shape: 'one-step',
    // 5,000, not 20,000: every start costs the engine a few milliseconds (see the peers suite, which
    // drains 20,000 runs started beforehand), and the rate is per run.
    size: (quick) => (quick ? 300 : 5_000),
  },
  {
    key: 'map-reduce',
    title: (n) => `a ${formatNumber(n)}-item map step, then one reduce step (one run)`,
    shape: 'map-reduce',
    size: (quick) => (quick ? 300 : 10_000),
  },
  {
    key: 'chain',
    title: (n) => `${formatNumber(n)} runs of a 3-step chain`,
    shape: 'chain',
    size: (quick) => (quick ? 30 : 1_000),
  },
  {
    key: 'diamond',
    title: (n) => `${formatNumber(n)} runs of a diamond: root → ${DIAMOND_WIDTH} parallel steps → join`,
    shape: 'diamond',
    size: (quick) => (quick ? 5 : 200),
  },
];

export type ProcessSamples = Map<Workload['key'], Throughput[]>;

export async function measureProcessWorkloads(context: BenchContext): Promise<ProcessSamples> {
  const samples: ProcessSamples = new Map();
  for (let round = 0; round < context.repetitions; round++) {
    const line: string[] = [];
    for (const workload of WORKLOADS) {
      const database = await context.server.freshDatabase(pgflowMigrations);
      const input: LibraryInput = {
        database: { name: database.name, url: database.url },
        worker: PROCESS_WORKER,
        shape: workload.shape,
        size: workload.size(context.quick),
        starters: STARTERS,
      };
      const sample = await throughputInChild(context.server, database, {
        module: LIBRARY,
        exportName: 'startAndDrain',
        input,
        log: context.log,
        timeoutMs: 300_000,
      });
      const list = samples.get(workload.key) ?? [];
      list.push(sample);
      samples.set(workload.key, list);
      line.push(`${workload.key} ${formatNumber(tasksPerSecond(sample))}`);
    }
    context.log(`  worker process, round ${round + 1}: ${line.join(', ')} tasks/s`);
  }
  return samples;
}

/** The figures of the suite's in-process workloads that the targets need. */
export interface InProcessFigures {
  /** library ÷ engine tasks/s per round. */
  readonly mapOverEngine: readonly number[];
  readonly chainOverEngine: readonly number[];
  readonly firstHandlerMs: readonly number[];
  readonly threeStepCompletedMs: readonly number[];
}

export function reportProcessWorkloads(
  samples: ProcessSamples,
  figures: InProcessFigures,
  context: BenchContext,
): string {
  const get = (key: Workload['key']) => samples.get(key) ?? [];
  const rows = WORKLOADS.map((workload) => {
    const list = get(workload.key);
    const cost = perTask(list);
    return [
      workload.title(workload.size(context.quick)),
      range(list.map(tasksPerSecond)),
      range(list.map(runsPerSecond), workload.key === 'map-reduce' ? 2 : 0),
      ...costCells(cost),
      formatNumber(cost.maxRssMiB),
      String(list.reduce((sum, s) => sum + s.work.deadlocks, 0)),
    ];
  });
  const oneStep = get('one-step');
  const startRates = oneStep
    .filter((s) => s.startSeconds !== undefined)
    .map((s) => s.runs / (s.startSeconds as number));
  const diamondOverChain = get('diamond').map(
    (sample, i) => tasksPerSecond(sample) / tasksPerSecond(get('chain')[i] as Throughput),
  );
  const deadlocks = get('diamond').reduce((sum, s) => sum + s.work.deadlocks, 0);
  const mapRss = median(get('map-reduce').map((s) => s.maxRssBytes / 1024 ** 2));
  const firstHandler = percentile(figures.firstHandlerMs, 0.5);
  const threeStep = percentile(figures.threeStepCompletedMs, 0.5);
  const targets = [
    [
      'issue 5: library ≥ 80% of the SQL-only engine, 20,000-item map',
      range(figures.mapOverEngine, 2),
      verdict(median(figures.mapOverEngine), (v) => v >= 0.8),
    ],
    [
      'issue 5: library ≥ 80% of the SQL-only engine, 1,000 chain runs',
      range(figures.chainOverEngine, 2),
      verdict(median(figures.chainOverEngine), (v) => v >= 0.8),
    ],
    [
      'issue 5: first-handler latency p50 < 5 ms (1-step flow)',
      `${formatNumber(firstHandler, 1)} ms`,
      verdict(firstHandler, (v) => v < 5),
    ],
    [
      'issue 5 and 8: 3-step completion p50 < 15 ms',
      `${formatNumber(threeStep, 1)} ms`,
      verdict(threeStep, (v) => v < 15),
    ],
    [
      "issue 8: diamond tasks/s ≥ 0.7 × the chain's (per round)",
      range(diamondOverChain, 2),
      verdict(median(diamondOverChain), (v) => v >= 0.7),
    ],
    [
      'issue 8: no deadlock in the diamond (pg_stat_database.deadlocks)',
      String(deadlocks),
      verdict(deadlocks, (v) => v === 0),
    ],
    [
      `issue 8: worker peak RSS < ${RSS_LIMIT_MIB} MB on the 10,000-item map`,
      `${formatNumber(mapRss)} MiB`,
      verdict(mapRss, (v) => v < RSS_LIMIT_MIB),
    ],
  ];
  return [
    '### The library in a worker process of its own',
    '',
    `${context.repetitions} rounds, each workload in a fresh database, its Nest application (worker maxConcurrent ` +
      `${PROCESS_WORKER.maxConcurrent}, batchSize ${PROCESS_WORKER.batchSize}, no-op handlers, only the workload's ` +
      'flow) in a Node.js process of its own, booted outside the clock. The clock runs from the first ' +
      'FlowClient.start() to the database showing every run complete; runs are started through FlowClient.start() ' +
      `(one statement per run; the one-step runs by ${STARTERS} concurrent callers, the chains and diamonds by 20) ` +
      'while the worker drains them. Commits, statements and WAL are the database’s differences from the booted ' +
      'app to the process’s exit; CPU is the worker process’s during the clock; RSS its peak. Commits include ' +
      'read-only transactions: the worker’s listening connection commits one each time it reads the ' +
      'notifications (pgflow:work) that arrived while it was idle, about one per started run here; write xacts ' +
      '(transactions that got an id, server-wide) are the ones that cost a WAL flush.',
    '',
    table(
      [
        'workload',
        'tasks/s median (min–max)',
        'runs/s',
        'commits/task',
        'write xacts/task',
        'statements/task',
        'WAL bytes/task',
        'worker CPU µs/task',
        'peak RSS MiB',
        'deadlocks',
      ],
      rows,
    ),
    '',
    `Starting the one-step runs: ${range(startRates)} runs/s through FlowClient.start() (while the worker drains).`,
    '',
    '### Targets',
    '',
    table(['target', 'measured, median (min–max)', 'verdict'], targets),
  ].join('\n');
}
