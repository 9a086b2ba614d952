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
  costColumns,
  median,
  percentile,
  perRound,
  RoundSamples,
  range,
  rateColumn,
  rssColumn,
  runsPerSecond,
  type Target,
  type Throughput,
  targetsTable,
  tasksPerSecond,
} from '../support/figures.ts';
import { throughputInChild } from '../support/measured-child.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import type { BenchContext } from '../support/suite.ts';
import type { LibraryInput, LibraryShape } from './library.workloads.ts';
import { DIAMOND_WIDTH } from './throughput-flows.ts';

const LIBRARY = new URL('./library.workloads.ts', import.meta.url);
/** The worker settings of these workloads (the same as the suite's other throughput workloads). */
export const PROCESS_WORKER = { maxConcurrent: 200, batchSize: 100 } as const;
const STARTERS = 32;
const RSS_LIMIT_MIB = 200;

interface Workload {
  /** For the progress output. */
  readonly name: string;
  readonly title: (size: number) => string;
  readonly shape: LibraryShape;
  readonly size: (quick: boolean) => number;
  /** Digits of its runs/s (a single run per round: a fraction). */
  readonly runsDigits: number;
}

const oneStep: Workload = {
  name: 'one-step',
  title: (n) => `${formatNumber(n)} one-step runs, started by ${STARTERS} concurrent FlowClient.start() callers`,
  shape: 'one-step',
  // 5,000, not 20,000: every start costs the engine a few milliseconds (see the peers suite, which
  // drains 20,000 runs started beforehand), and the rate is per run.
  size: (quick) => (quick ? 300 : 5_000),
  runsDigits: 0,
};

const mapReduce: Workload = {
  name: 'map-reduce',
  title: (n) => `a ${formatNumber(n)}-item map step, then one reduce step (one run)`,
  shape: 'map-reduce',
  size: (quick) => (quick ? 300 : 10_000),
  runsDigits: 2,
};

const chain: Workload = {
  name: 'chain',
  title: (n) => `${formatNumber(n)} runs of a 3-step chain`,
  shape: 'chain',
  size: (quick) => (quick ? 30 : 1_000),
  runsDigits: 0,
};

const diamond: Workload = {
  name: 'diamond',
  title: (n) => `${formatNumber(n)} runs of a diamond: root → ${DIAMOND_WIDTH} parallel steps → join`,
  shape: 'diamond',
  size: (quick) => (quick ? 5 : 200),
  runsDigits: 0,
};

const WORKLOADS: readonly Workload[] = [oneStep, mapReduce, chain, diamond];

export type ProcessSamples = RoundSamples<Workload, Throughput>;

export async function measureProcessWorkloads(context: BenchContext): Promise<ProcessSamples> {
  const samples: ProcessSamples = new RoundSamples();
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
      samples.add(workload, sample);
      line.push(`${workload.name} ${formatNumber(tasksPerSecond(sample))}`);
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

/** What the targets are decided on: the process workloads' samples and the in-process figures. */
interface Figures extends InProcessFigures {
  readonly samples: ProcessSamples;
}

const deadlocksOf = (samples: readonly Throughput[]) => samples.reduce((sum, s) => sum + s.work.deadlocks, 0);
const diamondOverChain = (f: Figures) => perRound(f.samples.of(diamond), f.samples.of(chain), tasksPerSecond);
const mapRssMiB = (f: Figures) => median(f.samples.of(mapReduce).map((s) => s.maxRssBytes / 1024 ** 2));
const p50 = (values: readonly number[]) => percentile(values, 0.5);

const TARGETS: ReadonlyArray<Target<Figures>> = [
  {
    target: 'issue 5: library ≥ 80% of the SQL-only engine, 20,000-item map',
    measure: (f) => median(f.mapOverEngine),
    shown: (f) => range(f.mapOverEngine, 2),
    met: (v) => v >= 0.8,
  },
  {
    target: 'issue 5: library ≥ 80% of the SQL-only engine, 1,000 chain runs',
    measure: (f) => median(f.chainOverEngine),
    shown: (f) => range(f.chainOverEngine, 2),
    met: (v) => v >= 0.8,
  },
  {
    target: 'issue 5: first-handler latency p50 < 5 ms (1-step flow)',
    measure: (f) => p50(f.firstHandlerMs),
    shown: (f) => `${formatNumber(p50(f.firstHandlerMs), 1)} ms`,
    met: (v) => v < 5,
  },
  {
    target: 'issue 5 and 8: 3-step completion p50 < 15 ms',
    measure: (f) => p50(f.threeStepCompletedMs),
    shown: (f) => `${formatNumber(p50(f.threeStepCompletedMs), 1)} ms`,
    met: (v) => v < 15,
  },
  {
    target: "issue 8: diamond tasks/s ≥ 0.7 × the chain's (per round)",
    measure: (f) => median(diamondOverChain(f)),
    shown: (f) => range(diamondOverChain(f), 2),
    met: (v) => v >= 0.7,
  },
  {
    target: 'issue 8: no deadlock in the diamond (pg_stat_database.deadlocks)',
    measure: (f) => deadlocksOf(f.samples.of(diamond)),
    shown: (f) => String(deadlocksOf(f.samples.of(diamond))),
    met: (v) => v === 0,
  },
  {
    target: `issue 8: worker peak RSS < ${RSS_LIMIT_MIB} MB on the 10,000-item map`,
    measure: mapRssMiB,
    shown: (f) => `${formatNumber(mapRssMiB(f))} MiB`,
    met: (v) => v < RSS_LIMIT_MIB,
  },
];

export function reportProcessWorkloads(
  samples: ProcessSamples,
  inProcess: InProcessFigures,
  context: BenchContext,
): string {
  const of = (workload: Workload) => samples.of(workload);
  const startRates = of(oneStep)
    .filter((s) => s.startSeconds !== undefined)
    .map((s) => s.runs / (s.startSeconds as number));
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
    tableOf<Workload>(
      [
        { heading: 'workload', cell: (workload) => workload.title(workload.size(context.quick)) },
        rateColumn('tasks/s median (min–max)', of, tasksPerSecond),
        rateColumn('runs/s', of, runsPerSecond, (workload) => workload.runsDigits),
        ...costColumns(of, 'worker'),
        rssColumn('peak RSS MiB', of),
        { heading: 'deadlocks', cell: (workload) => String(deadlocksOf(of(workload))) },
      ],
      WORKLOADS,
    ),
    '',
    `Starting the one-step runs: ${range(startRates)} runs/s through FlowClient.start() (while the worker drains).`,
    '',
    '### Targets',
    '',
    targetsTable({ ...inProcess, samples }, TARGETS, 'measured, median (min–max)'),
  ].join('\n');
}
