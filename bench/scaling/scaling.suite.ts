/**
 * Scale-out on one server (issue 17, item 3): the same workload drained by 1, 2, 3 and 4 worker
 * processes that share nothing but the database URL (worker-processes.ts), interleaved across the
 * rounds (1, 2, 3, 4, 1, 2, 3, 4, ...) so that the machine's swings spread over every count, each
 * measurement on a fresh clone of a database prepared once per workload. Two workloads: no-op
 * handlers, where the database is the ceiling, and handlers that wait (I/O-like) with a small
 * maxConcurrent per process, where one process is the limit until the database is.
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { median, perRound, RoundSamples, range } from '../support/figures.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import type { BenchDatabase } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import type { ScalingHandlers } from './scaling.workloads.ts';
import { WAIT_MS } from './scaling-flows.ts';
import { WorkerHost } from './worker-hosts.ts';
import { type GroupSample, measureWorkerProcesses, workerCpuShare } from './worker-processes.ts';

const PROCESS_COUNTS = [1, 2, 3, 4] as const;

interface Workload {
  readonly name: string;
  readonly handlers: ScalingHandlers;
  readonly worker: { readonly maxConcurrent: number; readonly batchSize: number };
  readonly runs: (quick: boolean) => number;
  readonly title: (runs: number) => string;
}

const noOp: Workload = {
  name: 'no-op',
  handlers: 'no-op',
  worker: { maxConcurrent: 200, batchSize: 100 },
  runs: (quick) => (quick ? 2_000 : 20_000),
  title: (runs) => `${formatNumber(runs)} one-step runs, no-op handlers`,
};

const waiting: Workload = {
  name: 'waiting',
  handlers: 'waiting',
  // 20 at a time, WAIT_MS each: one process cannot pass 20 / 0.020 s = 1,000 tasks/s.
  worker: { maxConcurrent: 20, batchSize: 20 },
  runs: (quick) => (quick ? 600 : 4_000),
  title: (runs) => `${formatNumber(runs)} one-step runs, handlers that wait ${WAIT_MS} ms`,
};

const WORKLOADS: readonly Workload[] = [noOp, waiting];

/** A row of a workload's table: its samples with `processes` worker processes. */
interface Row {
  readonly workload: Workload;
  readonly processes: number;
}

/** The database a workload's measurements clone: its runs started by one startMany() (untimed). */
async function prepare(context: BenchContext, host: WorkerHost, workload: Workload): Promise<BenchDatabase> {
  const database = await context.server.freshDatabase(pgflowMigrations);
  await host.prepare({
    database: { name: database.name, url: database.url },
    handlers: workload.handlers,
    worker: workload.worker,
    runs: workload.runs(context.quick),
  });
  await context.server.waitForDisconnect(database);
  return database;
}

export const scalingSuite: BenchSuite = {
  name: 'scaling',
  summary: 'tasks/s with 1, 2, 3, 4 worker processes sharing only the database URL; commits/s and CPU at each',

  async run(context: BenchContext) {
    const prepared = new Map<Workload, BenchDatabase>();
    const samples = new RoundSamples<string, GroupSample>();
    const key = (workload: Workload, processes: number) => `${workload.name}:${processes}`;
    // Started once: loading the modules takes seconds on a loaded machine; every measurement boots
    // a new Nest app in each process it uses.
    const hosts = Array.from({ length: Math.max(...PROCESS_COUNTS) }, (_, i) => WorkerHost.start(i));
    try {
      for (const workload of WORKLOADS)
        prepared.set(workload, await prepare(context, hosts[0] as WorkerHost, workload));
      for (let round = 0; round < context.repetitions; round++) {
        for (const workload of WORKLOADS) {
          const line: string[] = [];
          for (const processes of PROCESS_COUNTS) {
            const sample = await measureWorkerProcesses(
              context.server,
              prepared.get(workload) as BenchDatabase,
              hosts,
              {
                processes,
                input: { handlers: workload.handlers, worker: workload.worker },
                tasks: workload.runs(context.quick),
                log: context.log,
              },
            );
            samples.add(key(workload, processes), sample);
            line.push(
              `${processes}: ${formatNumber(sample.tasks / sample.seconds)} (${sample.handledPerProcess.join('/')})`,
            );
          }
          context.log(`  round ${round + 1}, ${workload.name}: tasks/s (handler calls per process) ${line.join(', ')}`);
        }
      }
    } finally {
      await Promise.all(hosts.map((host) => host.exit()));
      for (const database of prepared.values()) await context.server.dropDatabase(database);
    }
    return report(context, (row) => samples.of(key(row.workload, row.processes)));
  },
};

const rate = (sample: GroupSample) => sample.tasks / sample.seconds;
const percent = (share: number) => `${formatNumber(share * 100)}%`;
const medianOf = (list: readonly GroupSample[], figure: (sample: GroupSample) => number) => median(list.map(figure));

/** The smallest and largest share of the handler calls one process made, over the rounds. */
function processShares(list: readonly GroupSample[]): string {
  const shares = list.flatMap((sample) => sample.handledPerProcess.map((calls) => calls / sample.tasks));
  if (shares.length === 0) return 'n/a';
  const [low, high] = [Math.min(...shares), Math.max(...shares)];
  return low === high ? percent(low) : `${percent(low)}–${percent(high)}`;
}

function report(context: BenchContext, of: (row: Row) => readonly GroupSample[]): string {
  const perSecond = (figure: (sample: GroupSample) => number) => (row: Row) =>
    formatNumber(medianOf(of(row), (sample) => figure(sample) / sample.seconds));
  const workloadTable = (workload: Workload) =>
    tableOf<Row>(
      [
        { heading: 'worker processes', cell: (row) => String(row.processes) },
        { heading: 'tasks/s median (min–max)', cell: (row) => range(of(row).map(rate)) },
        {
          heading: 'speed-up vs 1 process',
          cell: (row) => range(perRound(of(row), of({ workload, processes: 1 }), rate), 2),
        },
        { heading: 'commits/s', cell: perSecond((sample) => sample.commits) },
        { heading: 'write xacts/s', cell: perSecond((sample) => sample.writeTransactions) },
        {
          heading: 'WAL MB/s',
          cell: (row) =>
            formatNumber(
              medianOf(of(row), (s) => s.walBytes / s.seconds / 1e6),
              1,
            ),
        },
        { heading: 'machine CPU busy', cell: (row) => percent(medianOf(of(row), (s) => s.cpu.machineBusy)) },
        {
          heading: 'PostgreSQL CPU',
          cell: (row) =>
            of(row).some((s) => s.cpu.postgres === null)
              ? 'n/a'
              : percent(medianOf(of(row), (s) => s.cpu.postgres as number)),
        },
        { heading: 'worker processes CPU', cell: (row) => percent(medianOf(of(row), workerCpuShare)) },
        { heading: 'tasks per process', cell: (row) => processShares(of(row)) },
        { heading: 'other databases commits/s', cell: perSecond((sample) => sample.otherCommits) },
      ],
      PROCESS_COUNTS.map((processes) => ({ workload, processes })),
    );
  const deadlocks = WORKLOADS.flatMap((workload) =>
    PROCESS_COUNTS.flatMap((processes) => of({ workload, processes }).map((sample) => sample.deadlocks)),
  ).reduce((a, b) => a + b, 0);
  return [
    '## Worker processes on one server (issue 17)',
    '',
    `${context.repetitions} rounds; in each, 1, 2, 3 and 4 worker processes in turn (1, 2, 3, 4, 1, 2, 3, 4, ...). ` +
      'Each worker process is a Node.js process of its own (started once for the suite) that boots a Nest ' +
      'application of its own for every measurement, with its own library worker and connection pool: the ' +
      'processes share nothing but the database URL, as processes on several machines would (the benchmark ' +
      'only tells them when to start and stop). Every measurement drains a fresh clone of a database whose ' +
      'one-step runs were started beforehand by one startMany(); the apps boot outside the clock and start their ' +
      'workers at once; the clock stops when the database shows every run complete. Figures are medians over the ' +
      'rounds, per second of the clock; "tasks per process" is the smallest and largest share of the handler ' +
      'calls one process made. Commits/s are the measured database’s (pg_stat_database, read-only ones ' +
      'included: each worker’s LISTEN connection commits when it reads notifications; what the apps committed at ' +
      'shutdown, and at boot on connections they kept, included); write xacts/s (transactions that got an id: ' +
      'each costs a WAL flush) and WAL are server-wide. CPU is a share of all the machine’s cores over the clock, ' +
      'from /proc: the whole machine busy (other work included), the PostgreSQL processes of the measured ' +
      'database plus the server’s background processes (WAL writer, checkpointer...), and the worker processes ' +
      'together (process.cpuUsage). The machine is shared with other work (see the load below and the other ' +
      'databases’ commits/s on the same server; other PostgreSQL servers on the machine are not counted), which ' +
      'competes for the same cores and disk.',
    '',
    ...WORKLOADS.flatMap((workload) => [
      `### ${workload.title(workload.runs(context.quick))} (per process: maxConcurrent ${workload.worker.maxConcurrent}, ` +
        `batchSize ${workload.worker.batchSize})`,
      '',
      workloadTable(workload),
      '',
    ]),
    `Deadlocks (pg_stat_database): ${deadlocks}.`,
  ].join('\n');
}
