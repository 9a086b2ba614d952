/**
 * What the throughput and latency workloads of the floor, worker and peers suites report, the
 * helpers that turn repetitions into the recorded figures (median, min, max; percentiles; per-round
 * ratios), and the specifications of the table columns and target rows made from them.
 */
import type pg from 'pg';
import { spread } from './measure.ts';
import { type Column, formatNumber, tableOf } from './results.ts';
import type { WorkDelta } from './work-counters.ts';

/** One repetition of a throughput workload. */
export interface Throughput {
  /** Tasks (jobs, steps) executed. */
  readonly tasks: number;
  /** Runs (workflows) completed; for a job queue, jobs. */
  readonly runs: number;
  /** Seconds of the measured part. */
  readonly seconds: number;
  /** Seconds spent starting the runs, when the workload starts them inside the measured part. */
  readonly startSeconds?: number;
  /** Worker process CPU during the measured part, µs; NaN where not measured. */
  readonly cpuMicros: number;
  /** Peak RSS of the worker process, bytes; NaN where not measured. */
  readonly maxRssBytes: number;
  readonly work: WorkDelta;
}

/** One repetition of a latency workload: milliseconds per sample. */
export interface LatencySamples {
  /** Start (or enqueue) → the first handler runs. */
  readonly dispatchMs: number[];
  /** Start → the run (job) is complete. */
  readonly completedMs: number[];
}

export function tasksPerSecond(sample: Throughput): number {
  return sample.tasks / sample.seconds;
}

export function runsPerSecond(sample: Throughput): number {
  return sample.runs / sample.seconds;
}

/** A figure over repetitions: "median (min–max)". */
export function range(values: readonly number[], digits = 0): string {
  if (values.length === 0) return 'n/a';
  const s = spread(values);
  if (values.length === 1) return formatNumber(s.median, digits);
  return `${formatNumber(s.median, digits)} (${formatNumber(s.min, digits)}–${formatNumber(s.max, digits)})`;
}

export function median(values: readonly number[]): number {
  return spread(values).median;
}

/** The q-quantile (0..1) of the samples, nearest rank. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Per-task cost figures of a set of repetitions (medians). */
export function perTask(samples: readonly Throughput[]): {
  commits: number;
  writeTransactions: number;
  statements: number | null;
  walBytes: number;
  cpuMicros: number;
  maxRssMiB: number;
} {
  const statements = samples.map((s) => (s.work.statements === null ? null : s.work.statements / s.tasks));
  return {
    commits: median(samples.map((s) => s.work.commits / s.tasks)),
    writeTransactions: median(samples.map((s) => s.work.writeTransactions / s.tasks)),
    statements: statements.some((s) => s === null) ? null : median(statements as number[]),
    walBytes: median(samples.map((s) => s.work.walBytes / s.tasks)),
    cpuMicros: median(samples.map((s) => s.cpuMicros / s.tasks)),
    maxRssMiB: median(samples.map((s) => s.maxRssBytes / 1024 ** 2)),
  };
}

/**
 * Each workload's samples over the rounds, kept by the workload's specification itself (not by a
 * name), so that a table's row specifications read their own.
 */
export class RoundSamples<K, T> {
  private readonly byKey = new Map<K, T[]>();

  add(key: K, sample: T): void {
    const list = this.byKey.get(key) ?? [];
    list.push(sample);
    this.byKey.set(key, list);
  }

  /** Adds one round's samples. */
  addRound(round: ReadonlyMap<K, T>): void {
    for (const [key, sample] of round) this.add(key, sample);
  }

  of(key: K): readonly T[] {
    return this.byKey.get(key) ?? [];
  }
}

/** Per-round ratios a ÷ b of a figure (a round that b lacks is left out). */
export function perRound<T>(a: readonly T[], b: readonly T[], figure: (sample: T) => number): number[] {
  return a.flatMap((sample, i) => (b[i] === undefined ? [] : [figure(sample) / figure(b[i] as T)]));
}

/** A rate column: "median (min–max)" over the rounds of the row's samples. */
export function rateColumn<R>(
  heading: string,
  samplesOf: (row: R) => readonly Throughput[],
  rate: (sample: Throughput) => number,
  digits: (row: R) => number = () => 0,
): Column<R> {
  return { heading, cell: (row) => range(samplesOf(row).map(rate), digits(row)) };
}

/**
 * The per-task cost columns of a throughput table (medians over the row's samples): commits, write
 * transactions, statements (n/a where not measured), WAL bytes, and the CPU of the worker process
 * or of the benchmark's own client.
 */
export function costColumns<R>(samplesOf: (row: R) => readonly Throughput[], cpu: 'worker' | 'client'): Column<R>[] {
  const cost = (row: R) => perTask(samplesOf(row));
  return [
    { heading: 'commits/task', cell: (row) => formatNumber(cost(row).commits, 3) },
    { heading: 'write xacts/task', cell: (row) => formatNumber(cost(row).writeTransactions, 3) },
    {
      heading: 'statements/task',
      cell: (row) => {
        const statements = cost(row).statements;
        return statements === null ? 'n/a' : formatNumber(statements, 3);
      },
    },
    { heading: 'WAL bytes/task', cell: (row) => formatNumber(cost(row).walBytes) },
    { heading: `${cpu} CPU µs/task`, cell: (row) => formatNumber(cost(row).cpuMicros) },
  ];
}

/** The worker process's peak RSS (median over the row's samples, MiB; n/a where not measured). */
export function rssColumn<R>(heading: string, samplesOf: (row: R) => readonly Throughput[]): Column<R> {
  return { heading, cell: (row) => formatNumber(perTask(samplesOf(row)).maxRssMiB) };
}

/** The p50, p95, p99 and max columns of a latency table, ms, over the row's samples. */
export function latencyColumns<R>(valuesOf: (row: R) => readonly number[]): Column<R>[] {
  return (
    [
      ['p50 ms', 0.5],
      ['p95 ms', 0.95],
      ['p99 ms', 0.99],
      ['max ms', 1],
    ] as const
  ).map(([heading, q]) => ({ heading, cell: (row: R) => formatNumber(percentile(valuesOf(row), q), 1) }));
}

/** What a latency workload is asked for. */
export interface LatencyRequest {
  readonly samples: number;
  /** Runs before the samples, not recorded. */
  readonly warmup: number;
  /**
   * The random think time between samples, ms: it must span the system's poll interval, so that
   * starts fall at random phases of any poll loop (a fixed short pause would start every sample
   * right after the loop's last poll).
   */
  readonly thinkMs: readonly [number, number];
}

/**
 * The latency loop: warmup + samples runs, one after the other, each after a think time. `once(n)`
 * starts run n, resolves when it is complete, with the time (performance.now()) its first handler
 * ran. Returns the samples' start → first handler and start → complete times, in ms.
 */
export async function sequentialLatency(
  request: LatencyRequest,
  once: (n: number) => Promise<number | undefined>,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  const dispatchMs: number[] = [];
  const completedMs: number[] = [];
  for (let n = 0; n < request.samples + request.warmup; n++) {
    await thinkTime(request.thinkMs);
    const started = performance.now();
    const dispatchedAt = await once(n);
    const completed = performance.now();
    if (n < request.warmup) continue;
    completedMs.push(completed - started);
    dispatchMs.push((dispatchedAt ?? Number.NaN) - started);
  }
  return { dispatchMs, completedMs };
}

/** Sleeps a random think time in [min, max] ms. */
export function thinkTime([minMs, maxMs]: readonly [number, number]): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
}

/** Waits until `check` returns true, polling every `everyMs`; throws past `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 300_000,
  everyMs = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits until the database shows every run of flow `slug` completed (read on `probe`, every 5 ms). */
export function untilRunsCompleted(probe: pg.Client, slug: string): Promise<void> {
  return until(
    async () => {
      const { rows } = await probe.query<{ left: string }>(
        `select count(*) as left from pgflow.runs where flow_slug = $1 and status <> 'completed'`,
        [slug],
      );
      return Number(rows[0]?.left) === 0;
    },
    'every run to be completed',
    60_000,
    5,
  );
}

/** Runs `count` calls of `call` with at most `concurrency` at once. */
export async function inParallel(
  count: number,
  concurrency: number,
  call: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        await call(index);
      }
    }),
  );
}

/** A target's verdict: met, missed (bold), or not measured (the figure is NaN, e.g. in a --quick run). */
export function verdict(value: number, met: (value: number) => boolean): string {
  if (Number.isNaN(value)) return 'not measured';
  return met(value) ? 'met' : '**missed**';
}

/** A row of a targets table, made from the suite's figures F. */
export interface Target<F> {
  readonly target: string | ((figures: F) => string);
  /** The figure that decides the verdict; NaN when not measured. */
  readonly measure: (figures: F) => number;
  /** The "measured" cell. */
  readonly shown: (figures: F) => string;
  readonly met: (value: number) => boolean;
}

/** A targets table: target, measured, verdict. */
export function targetsTable<F>(figures: F, targets: ReadonlyArray<Target<F>>, measuredHeading = 'measured'): string {
  return tableOf<Target<F>>(
    [
      { heading: 'target', cell: (t) => (typeof t.target === 'string' ? t.target : t.target(figures)) },
      { heading: measuredHeading, cell: (t) => t.shown(figures) },
      { heading: 'verdict', cell: (t) => verdict(t.measure(figures), t.met) },
    ],
    targets,
  );
}
