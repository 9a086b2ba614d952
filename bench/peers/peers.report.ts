/**
 * The peers suite's section of bench/RESULTS.md, built from declarative specifications: each table's
 * rows are the workloads of peers.workloads.ts (or ratio rows naming two of them), each cell a
 * column of support/figures.ts, each target a figure, how it reads, and when it is met.
 */
import {
  costColumns,
  type LatencySamples,
  latencyColumns,
  median,
  percentile,
  perRound,
  perTask,
  type RoundSamples,
  range,
  rateColumn,
  rssColumn,
  runsPerSecond,
  type Target,
  type Throughput,
  targetsTable,
  tasksPerSecond,
} from '../support/figures.ts';
import { peerVersion } from '../support/peers-package.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import {
  CHAIN,
  type ChildWorkload,
  DBOS_CONCURRENCY,
  DRAIN,
  dbos3,
  dbosChain,
  type EngineVariant,
  engineAloneDrain,
  graphile1,
  graphileChain,
  graphileDefaults,
  graphileTuned,
  LATENCY,
  type LatencyWorkload,
  LIBRARY_LARGE_BATCHES,
  library1,
  library3,
  libraryChain,
  libraryDefault,
  libraryLargeBatches,
  libraryTuned,
  PGBOSS_THINK,
  PGFLOW_THINK,
  pgboss1,
  pgbossBest,
  pgflow3,
  pgflowChain,
  rowsAloneDrain,
  SHORT_THINK,
  type Sizes,
} from './peers.workloads.ts';
import { PGBOSS_BEST } from './pgboss.workload.ts';
import { PGFLOW_WORKER_DEFAULTS } from './pgflow-core.workload.ts';

/** What the suite measured. */
export interface PeerFigures {
  /** Seconds the one SQL statement starting the library's one-step runs took. */
  readonly startSeconds: number;
  /** The drains' and chains' samples. */
  readonly throughputs: RoundSamples<ChildWorkload, Throughput>;
  readonly engines: { readonly ours: EngineVariant; readonly pgflow: EngineVariant };
  readonly engineSamples: RoundSamples<EngineVariant, Throughput>;
  readonly latencies: RoundSamples<LatencyWorkload, LatencySamples>;
  readonly sizes: Sizes;
  readonly repetitions: number;
  /** Whether the server counts statements (pg_stat_statements). */
  readonly statements: boolean;
}

/** Per-round ratios of a figure. */
type Ratios = (f: PeerFigures) => number[];

/** A row of a ratio table: its label and its per-round ratios, shown as median (min–max). */
interface RatioRow {
  readonly label: string;
  readonly ratios: Ratios;
}

const tasksRatio =
  (over: ChildWorkload, under: ChildWorkload): Ratios =>
  (f) =>
    perRound(f.throughputs.of(over), f.throughputs.of(under), tasksPerSecond);

const runsRatio =
  (over: ChildWorkload, under: ChildWorkload): Ratios =>
  (f) =>
    perRound(f.throughputs.of(over), f.throughputs.of(under), runsPerSecond);

/** Per round, the p50 of `field` of one latency workload over another's. */
const p50Ratio = (over: LatencyWorkload, under: LatencyWorkload, field: keyof LatencySamples): Ratios => {
  const p50s = (f: PeerFigures, workload: LatencyWorkload) =>
    f.latencies.of(workload).map((sample) => percentile(sample[field], 0.5));
  return (f) => perRound(p50s(f, over), p50s(f, under), (v) => v);
};

/** Per round, the best tasks/s of `workloads` (those that ran in that round). */
const bestOf = (f: PeerFigures, workloads: readonly ChildWorkload[], round: number): number =>
  Math.max(
    ...workloads.flatMap((workload) => {
      const sample = f.throughputs.of(workload)[round];
      return sample === undefined ? [] : [tasksPerSecond(sample)];
    }),
  );

/**
 * Per round, the library at its best high-throughput settings of the round over a peer's best: the
 * best of graphile-worker's and pg-boss's, or pg-boss's alone.
 */
const libraryOverBest =
  (peers: readonly ChildWorkload[]): Ratios =>
  (f) =>
    f.throughputs
      .of(libraryTuned)
      .map((_, i) => bestOf(f, [libraryTuned, libraryLargeBatches], i) / bestOf(f, peers, i));
const libraryOverBestPeer = libraryOverBest([graphileTuned, pgbossBest]);
const libraryOverPgBoss = libraryOverBest([pgbossBest]);

const dispatchOursOverGraphile = p50Ratio(library1, graphile1, 'dispatchMs');
const completionPgflowOverOurs = p50Ratio(pgflow3, library3, 'completedMs');
const completionOursOverGraphile = p50Ratio(library1, graphile1, 'completedMs');
const completionDbosOverOurs = p50Ratio(dbos3, library3, 'completedMs');
const chainOverDbos = runsRatio(libraryChain, dbosChain);
const chainOverGraphile = runsRatio(libraryChain, graphileChain);

const DRAIN_RATIOS: readonly RatioRow[] = [
  {
    label: 'library (high-throughput) ÷ graphile-worker (high-throughput)',
    ratios: tasksRatio(libraryTuned, graphileTuned),
  },
  { label: 'library (high-throughput) ÷ pg-boss (best)', ratios: tasksRatio(libraryTuned, pgbossBest) },
  { label: 'library (large batches) ÷ pg-boss (best)', ratios: tasksRatio(libraryLargeBatches, pgbossBest) },
  { label: 'library (default) ÷ graphile-worker (defaults)', ratios: tasksRatio(libraryDefault, graphileDefaults) },
  { label: 'library (its best high-throughput settings) ÷ the best peer of its round', ratios: libraryOverBestPeer },
  { label: 'the engine alone ÷ pg-boss (best)', ratios: tasksRatio(engineAloneDrain, pgbossBest) },
  { label: "pgflow's rows alone ÷ pg-boss (best)", ratios: tasksRatio(rowsAloneDrain, pgbossBest) },
  { label: 'library (large batches) ÷ the engine alone', ratios: tasksRatio(libraryLargeBatches, engineAloneDrain) },
  { label: "the engine alone ÷ pgflow's rows alone", ratios: tasksRatio(engineAloneDrain, rowsAloneDrain) },
];

const CHAIN_RATIOS: readonly RatioRow[] = [graphileChain, dbosChain, pgflowChain].map((peer) => ({
  label: `library ÷ ${peer.label}`,
  ratios: runsRatio(libraryChain, peer),
}));

const LATENCY_RATIOS: readonly RatioRow[] = [
  { label: '1-step dispatch: ours ÷ graphile-worker', ratios: dispatchOursOverGraphile },
  { label: '1-step dispatch: pg-boss ÷ ours', ratios: p50Ratio(pgboss1, library1, 'dispatchMs') },
  { label: '1-step completion: ours ÷ graphile-worker', ratios: completionOursOverGraphile },
  { label: '3-step completion: pgflow (driven like its worker) ÷ ours', ratios: completionPgflowOverOurs },
  { label: '3-step completion: DBOS ÷ ours', ratios: completionDbosOverOurs },
];

function ratioTable(heading: string, rows: readonly RatioRow[], f: PeerFigures): string {
  return tableOf<RatioRow>(
    [
      { heading, cell: (row) => row.label },
      { heading: 'median (min–max)', cell: (row) => range(row.ratios(f), 2) },
    ],
    rows,
  );
}

/** A target decided by the median of per-round ratios; `show` frames their "median (min–max)". */
function ratioTarget(
  target: string,
  ratios: Ratios,
  met: (value: number) => boolean,
  show: (text: string) => string,
): Target<PeerFigures> {
  return { target, measure: (f) => median(ratios(f)), shown: (f) => show(range(ratios(f), 2)), met };
}

const defaultCost = (f: PeerFigures) => perTask(f.throughputs.of(libraryDefault));
const threeStepP50 = (f: PeerFigures) =>
  percentile(
    f.latencies.of(library3).flatMap((s) => s.completedMs),
    0.5,
  );

const TARGETS: ReadonlyArray<Target<PeerFigures>> = [
  {
    target: (f) =>
      `${formatNumber(f.sizes.drainJobs)} one-step runs: library ≥ the best of graphile-worker / pg-boss at their ` +
      'high-throughput settings',
    measure: (f) => median(libraryOverBestPeer(f)),
    shown: (f) => `library ÷ best peer per round: ${range(libraryOverBestPeer(f), 2)}`,
    met: (v) => v >= 1,
  },
  ratioTarget(
    'issue 17: one-step runs through the library ≥ 0.5 of pg-boss’s best configuration',
    libraryOverPgBoss,
    (v) => v >= 0.5,
    (text) => `library (its best settings) ÷ pg-boss per round: ${text}`,
  ),
  {
    target: (f) => `commits per task ≤ 1.2 at the default settings (${formatNumber(f.sizes.drainJobs)} one-step runs)`,
    measure: (f) => defaultCost(f).commits,
    shown: (f) =>
      `${formatNumber(defaultCost(f).commits, 3)} (write transactions: ${formatNumber(defaultCost(f).writeTransactions, 3)})`,
    met: (v) => v <= 1.2,
  },
  {
    target: 'statements per task ≤ 1.2 at the default settings',
    measure: (f) => defaultCost(f).statements ?? Number.NaN,
    shown: (f) => {
      const statements = defaultCost(f).statements;
      return statements === null ? 'n/a (pg_stat_statements not loaded)' : formatNumber(statements, 3);
    },
    met: (v) => v <= 1.2,
  },
  ratioTarget(
    '3-step chain: ≥ 5× DBOS’s workflows/s',
    chainOverDbos,
    (v) => v >= 5,
    (text) => `${text}×`,
  ),
  ratioTarget(
    '3-step chain: ≥ the hand-chained graphile-worker baseline',
    chainOverGraphile,
    (v) => v >= 1,
    (text) => `${text}×`,
  ),
  ratioTarget(
    '1-step dispatch p50 within 1.5× of graphile-worker’s single-job p50',
    dispatchOursOverGraphile,
    (v) => v <= 1.5,
    (text) => `ours ÷ graphile-worker: ${text}`,
  ),
  {
    target: '3-step completion p50 under 15 ms',
    measure: threeStepP50,
    shown: (f) => `${formatNumber(threeStepP50(f), 1)} ms`,
    met: (v) => v < 15,
  },
  ratioTarget(
    '3-step completion p50 ≥ 10× lower than pgflow’s engine driven like its worker',
    completionPgflowOverOurs,
    (v) => v >= 10,
    (text) => `pgflow ÷ ours: ${text}`,
  ),
  ratioTarget(
    'issue 21: 1-step completion p50 ≤ 1.2× graphile-worker’s',
    completionOursOverGraphile,
    (v) => v <= 1.2,
    (text) => `ours ÷ graphile-worker: ${text}`,
  ),
  ratioTarget(
    'issue 21: 3-step completion p50 ≤ DBOS’s',
    completionDbosOverOurs,
    (v) => v >= 1,
    (text) => `DBOS ÷ ours: ${text}`,
  ),
];

/** A line of the latency table: a workload's dispatch or completion times. */
interface LatencyLine {
  readonly workload: LatencyWorkload;
  readonly part: 'dispatch' | 'completed';
}

const LATENCY_LINES: readonly LatencyLine[] = LATENCY.flatMap((workload) => [
  { workload, part: 'dispatch' as const },
  { workload, part: 'completed' as const },
]);

export function report(m: PeerFigures): string {
  const of = (workload: ChildWorkload) => m.throughputs.of(workload);
  const ofEngine = (variant: EngineVariant) => m.engineSamples.of(variant);
  const pooled = ({ workload, part }: LatencyLine) =>
    m.latencies.of(workload).flatMap((s) => (part === 'dispatch' ? s.dispatchMs : s.completedMs));
  const peerRss = (heading: string) => rssColumn(heading, of);
  const d = PGFLOW_WORKER_DEFAULTS;
  const version = (name: string) => peerVersion(name) ?? 'not installed';
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
    `Peers: graphile-worker ${version('graphile-worker')}, pg-boss ${version('pg-boss')}, ` +
      `@dbos-inc/dbos-sdk ${version('@dbos-inc/dbos-sdk')}, @pgflow/core ${version('@pgflow/core')} ` +
      `(with postgres ${version('postgres')}): the newest releases whose \`engines\` accept this Node.js ` +
      '(graphile-worker 0.18 needs Node ≥ 22.18, pg-boss 11+ Node ≥ 22).',
    '',
    `### Draining ${formatNumber(m.sizes.drainJobs)} pre-enqueued no-op jobs (one-step runs)`,
    '',
    "The library's runs are started before the clock by one FlowClient.startMany() call (one statement, " +
      `pgflow.start_flows): ${formatNumber(m.startSeconds, 1)} s (${formatNumber(m.sizes.drainJobs / m.startSeconds)} ` +
      'runs/s), once per suite, in a database that every round clones. graphile-worker’s jobs are added by one ' +
      'addJobs() call, pg-boss’s by one insert() call, in each round.',
    '',
    tableOf<ChildWorkload>(
      [
        { heading: 'system and settings', cell: (workload) => workload.label },
        rateColumn('tasks/s median (min–max)', of, tasksPerSecond),
        ...costColumns(of, 'worker'),
        peerRss('worker peak RSS MiB'),
      ],
      DRAIN,
    ),
    '',
    ratioTable('ratio of tasks/s, per round', DRAIN_RATIOS, m),
    '',
    `pg-boss's worker loop sleeps out the rest of its polling interval (0.5 s at least) after every batch, ` +
      'whatever it found, so its rate is at most work() loops × batchSize ÷ interval: it grows with the batch as ' +
      'long as jobs wait. The settings above were the best of those tried here (1 × 1,000: about 2,100 jobs/s; ' +
      '4 × 1,000: 2,600; 1 × 5,000: 11,800; 2 × 5,000: 16,000–26,000; 4 × 5,000: 32,600, one run each, under ' +
      'load); with 4 × 5,000 the 20,000 jobs are taken in about four fetches. graphile-worker’s high-throughput ' +
      'settings are those of its performance page (worker.graphile.org/docs/performance). The library’s large ' +
      `batches (maxConcurrent ${LIBRARY_LARGE_BATCHES.maxConcurrent}, batchSize ${LIBRARY_LARGE_BATCHES.batchSize}) ` +
      'were the best of those tried here (2026-12-07, 20,000 runs, 2–3 alternating rounds, an idle machine): ' +
      '200 × 100 gave 7,800–9,400 tasks/s, 1,000 × 500 9,100–10,900, 600 × 200 8,800–10,000, 2,000 × 500 ' +
      '8,600–9,000, 1,000 × 1,000 5,000–6,100 (a batch as large as the slots leaves no batch running while ' +
      'another is reported); the ratios to a best peer take the better of the library’s two high-throughput ' +
      'rows of each round. The last two rows drain the same started runs without the library, from 2 ' +
      'connections: the engine alone, and the rows it changes per one-step run written by hand (the message read ' +
      'and archived, the task started and completed, the step state and the run completed), which bound what ' +
      'any engine keeping pgflow’s tables can drain on this server (docs/SCALING.md).',
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
    tableOf<ChildWorkload>(
      [
        { heading: 'system', cell: (workload) => workload.label },
        rateColumn('runs/s median (min–max)', of, runsPerSecond),
        rateColumn('tasks/s', of, tasksPerSecond),
        ...costColumns(of, 'worker'),
        peerRss('worker peak RSS MiB'),
      ],
      CHAIN,
    ),
    '',
    ratioTable('ratio of runs/s, per round', CHAIN_RATIOS, m),
    '',
    `### Our engine and pgflow's, SQL-only drivers (${formatNumber(m.sizes.pgflowRuns)} chain runs started beforehand, 1 connection each)`,
    '',
    tableOf<EngineVariant>(
      [
        { heading: 'driver', cell: (variant) => variant.label },
        rateColumn('tasks/s median (min–max)', ofEngine, tasksPerSecond),
        ...costColumns(ofEngine, 'client'),
      ],
      [m.engines.ours, m.engines.pgflow],
    ),
    '',
    `Ours ÷ pgflow's, tasks/s per round: ${range(
      perRound(ofEngine(m.engines.ours), ofEngine(m.engines.pgflow), tasksPerSecond),
      2,
    )}.`,
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
    tableOf<LatencyLine>(
      [
        { heading: 'system', cell: (line) => (line.part === 'dispatch' ? line.workload.label : '') },
        { heading: 'samples', cell: (line) => (line.part === 'dispatch' ? String(pooled(line).length) : '') },
        { heading: 'from start to', cell: (line) => line.part },
        ...latencyColumns(pooled),
      ],
      LATENCY_LINES,
    ),
    '',
    ratioTable('ratio of p50s, per round', LATENCY_RATIOS, m),
    '',
    '### Targets (issue 8, and issues 17 and 21 where they say so)',
    '',
    targetsTable(m, TARGETS),
  ].join('\n');
}
