/**
 * What the soak records while it runs, for docs/RELIABILITY.md: the resident memory of each worker
 * process (from /proc), the size, live and dead tuples and vacuum counts of every table of the
 * pgflow and pgmq schemas, and afterwards the tasks completed per interval (from the completion
 * rows' timestamps). Measurements only: the soak asserts its invariants, never these numbers
 * (except the RSS bound of a long soak, see soak.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { Sql } from './soak-load.ts';

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

/** A worker's RSS near second `t`: the median of its samples within ±15 s (undefined: none). */
export function rssNear(samples: readonly RssSample[], pid: number, t: number): number | undefined {
  const near = samples
    .filter((s) => s.pid === pid && Math.abs(s.t - t) <= 15)
    .map((s) => s.rssMb)
    .sort((a, b) => a - b);
  if (near.length === 0) return undefined;
  return Math.round((near[Math.floor(near.length / 2)] as number) * 10) / 10;
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
