/**
 * What the soak records while it runs, for docs/SOAK.md: the resident memory of each worker
 * process (from /proc), the size, live and dead tuples and vacuum counts of every table of the
 * pgflow and pgmq schemas, and afterwards the tasks completed per interval (from the completion
 * rows' timestamps). Measurements only: the soak asserts its invariants, never these numbers
 * (except the RSS bound of a long soak, see soak.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { Sql } from './soak-load.ts';
import type { WorkerProcess } from './worker-processes.ts';

export interface RssSample {
  /** Seconds since the soak began. */
  readonly t: number;
  readonly label: string;
  readonly pid: number;
  readonly rssMb: number;
}

export interface TableSample {
  readonly table: string;
  readonly sizeKb: number;
  readonly live: number;
  readonly dead: number;
  readonly autovacuums: number;
}

export interface TablesSnapshot {
  readonly t: number;
  readonly tables: TableSample[];
  /** pgflow + pgmq, all tables with their indexes and TOAST. */
  readonly totalKb: number;
}

/** Resident set of a process in MB, or undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function tablesSnapshot(db: Sql, t: number): Promise<TablesSnapshot> {
  const tables = await db.query<TableSample>(
    `select schemaname || '.' || relname as "table",
            (pg_total_relation_size(relid) / 1024)::int as "sizeKb",
            n_live_tup::int as live, n_dead_tup::int as dead,
            (autovacuum_count + vacuum_count)::int as autovacuums
       from pg_stat_user_tables where schemaname in ('pgflow', 'pgmq') order by 1`,
  );
  return { t, tables, totalKb: tables.reduce((sum, row) => sum + row.sizeKb, 0) };
}

/** Task completions per `bucketSeconds` from `since` (epoch ms), read from the completion rows. */
export async function tasksPerInterval(
  db: Sql,
  since: number,
  bucketSeconds: number,
): Promise<Array<{ fromSecond: number; tasksPerSecond: number }>> {
  const rows = await db.query<{ bucket: number; n: number }>(
    `select floor(extract(epoch from at - to_timestamp($1::double precision / 1000)) / $2)::int as bucket,
            count(*)::int as n
       from public.reliability_completions where kind = 'task' group by 1 order by 1`,
    [since, bucketSeconds],
  );
  return rows.map((row) => ({
    fromSecond: row.bucket * bucketSeconds,
    tasksPerSecond: Math.round(row.n / bucketSeconds),
  }));
}

/** Each table's first and last sample, and its largest size in between. */
export function tableGrowth(
  snapshots: readonly TablesSnapshot[],
): Array<{ table: string; start: TableSample; end: TableSample; maxSizeKb: number; maxDead: number }> {
  const first = snapshots[0];
  const last = snapshots[snapshots.length - 1];
  if (!first || !last) return [];
  return last.tables.map((end) => {
    const series = snapshots.flatMap((s) => s.tables.filter((row) => row.table === end.table));
    const start = first.tables.find((row) => row.table === end.table) ?? {
      table: end.table,
      sizeKb: 0,
      live: 0,
      dead: 0,
      autovacuums: 0,
    };
    return {
      table: end.table,
      start,
      end,
      maxSizeKb: Math.max(...series.map((row) => row.sizeKb)),
      maxDead: Math.max(...series.map((row) => row.dead)),
    };
  });
}

/**
 * Seconds from `at` (seconds since `since`) to the first whole second that completed at least half
 * as many tasks as the average second of the 10 before `at`; undefined if none did.
 */
export function secondsToHalfRate(perSecond: ReadonlyMap<number, number>, at: number): number | undefined {
  const start = Math.floor(at);
  let before = 0;
  for (let s = start - 10; s < start; s += 1) before += perSecond.get(s) ?? 0;
  const target = before / 10 / 2;
  const last = Math.max(...perSecond.keys());
  for (let s = start + 1; s <= last; s += 1) if ((perSecond.get(s) ?? 0) >= target) return s + 1 - at;
  return undefined;
}

/** The median of `values` near second `t` (±15 s) of `series`, to one decimal. */
function medianNear(series: ReadonlyArray<{ t: number; value: number }>, t: number): number | undefined {
  const near = series
    .filter((s) => Math.abs(s.t - t) <= 15)
    .map((s) => s.value)
    .sort((a, b) => a - b);
  if (near.length === 0) return undefined;
  return Math.round((near[Math.floor(near.length / 2)] as number) * 10) / 10;
}

/**
 * One worker's memory: RSS (from /proc, sampled by the soak) and V8's used heap (the worker's own
 * `memory` lines) near `minute2` and `end` (seconds since `began`), the lowest and highest RSS of
 * the 3 minutes after `minute2` and of the last 3 minutes, and both every 30 s of its life.
 */
export function workerMemory(
  worker: WorkerProcess,
  rss: readonly RssSample[],
  began: number,
  minute2: number,
  end: number,
): Record<string, unknown> & { label: string; rssLowAfterMinute2?: number; rssLowAtEnd?: number } {
  const own = rss.filter((s) => s.pid === worker.pid).map((s) => ({ t: s.t, value: s.rssMb }));
  const heap = worker.lines
    .filter((line) => line.type === 'memory' && line.heapUsedMb !== undefined)
    .map((line) => ({ t: (line.at - began) / 1000, value: line.heapUsedMb as number }));
  const from = own[0]?.t;
  const to = own[own.length - 1]?.t;
  const series: Array<[number, number | undefined, number | undefined]> = [];
  if (from !== undefined && to !== undefined) {
    for (let t = Math.ceil(from / 30) * 30; t <= to; t += 30) series.push([t, medianNear(own, t), medianNear(heap, t)]);
  }
  // V8 lets the heap grow by tens of MB before a major collection: RSS is a saw-tooth with a period
  // of minutes. What a leak raises is its floor, the memory kept after the collections: the lowest
  // sample of a 3-minute window. The peaks depend on when the collections fall, and are reported.
  const extreme = (pick: (...values: number[]) => number, from: number, to: number): number | undefined => {
    const inside = own.filter((s) => s.t >= from && s.t <= to).map((s) => s.value);
    return inside.length > 0 ? Math.round(pick(...inside) * 10) / 10 : undefined;
  };
  const afterMinute2 = from !== undefined && from <= minute2;
  const livedToEnd = to !== undefined && to >= end - 15;
  return {
    label: worker.label,
    pid: worker.pid,
    from,
    to,
    rssAtMinute2: medianNear(own, minute2),
    rssAtEnd: livedToEnd ? medianNear(own, end) : undefined,
    heapAtMinute2: medianNear(heap, minute2),
    heapAtEnd: livedToEnd ? medianNear(heap, end) : undefined,
    rssLowAfterMinute2: afterMinute2 ? extreme(Math.min, minute2, minute2 + 180) : undefined,
    rssLowAtEnd: livedToEnd ? extreme(Math.min, end - 180, end) : undefined,
    rssPeakAfterMinute2: afterMinute2 ? extreme(Math.max, minute2, minute2 + 180) : undefined,
    rssPeakAtEnd: livedToEnd ? extreme(Math.max, end - 180, end) : undefined,
    rssMax: own.length > 0 ? Math.round(Math.max(...own.map((s) => s.value)) * 10) / 10 : undefined,
    series,
  };
}
