/**
 * Where the machine's CPU went during a measurement, read from /proc (Linux; the benchmark runs on
 * the machine that runs PostgreSQL): the busy share of all cores (/proc/stat, every process of the
 * machine, other work included), and the share used by the PostgreSQL processes that serve one
 * database (its backends, autovacuum workers on it) plus the server's own background processes
 * (WAL writer, checkpointer, background writer: they serve every database, this one's WAL above
 * all). Both are in clock ticks of all cores, so the shares are of the whole machine (1.0 = every
 * core busy). A server on another machine (or whose processes this one cannot read) gives `null`
 * for the PostgreSQL share.
 */
import { readFile } from 'node:fs/promises';
import type { BenchDatabase, BenchServer } from './server.ts';

export interface CpuReading {
  /** Ticks of all cores since boot: busy (all but idle and iowait), and in total. */
  readonly busyTicks: number;
  readonly totalTicks: number;
  /** user + system ticks of each PostgreSQL process of interest, by pid; null when unreadable. */
  readonly postgresTicks: ReadonlyMap<number, number> | null;
}

export interface CpuShares {
  /** Busy share of all cores over the interval (0..1). */
  readonly machineBusy: number;
  /** Share of all cores used by the database's PostgreSQL processes (0..1); null when unreadable. */
  readonly postgres: number | null;
}

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const stat = await readFile('/proc/stat', 'utf8');
  const first = stat.slice(0, stat.indexOf('\n'));
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user).
  const values = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** user + system ticks of a PostgreSQL process; undefined when it is gone or not PostgreSQL. */
async function processTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (!stat.slice(open + 1, close).startsWith('postgres')) return undefined;
    // Fields after the command: state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(close + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** The PostgreSQL processes that serve `database`, and the server's background processes. */
async function postgresPids(server: BenchServer, database: BenchDatabase): Promise<number[]> {
  const rows = await server.adminQuery<{ pid: number }>(
    `select pid from pg_stat_activity where datname = $1 or (datname is null and backend_type <> 'client backend')`,
    [database.name],
  );
  return rows.map((row) => row.pid);
}

export async function readCpu(server: BenchServer, database: BenchDatabase): Promise<CpuReading> {
  const [machine, pids] = await Promise.all([machineTicks(), postgresPids(server, database)]);
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const value = await processTicks(pid);
    if (value !== undefined) ticks.set(pid, value);
  }
  // Not one readable process (a remote server, another PID namespace): unknown, not zero.
  return { busyTicks: machine.busy, totalTicks: machine.total, postgresTicks: ticks.size > 0 ? ticks : null };
}

/**
 * The shares over the interval between two readings. A process present only in `after` (a
 * connection opened during the interval) counts whole; one gone by `after` is missed (the
 * measured processes keep their connections open until the end).
 */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuShares {
  const total = after.totalTicks - before.totalTicks;
  if (total <= 0) return { machineBusy: Number.NaN, postgres: null };
  let postgres: number | null = null;
  if (before.postgresTicks !== null && after.postgresTicks !== null) {
    let ticks = 0;
    for (const [pid, value] of after.postgresTicks) ticks += value - (before.postgresTicks.get(pid) ?? 0);
    postgres = ticks / total;
  }
  return { machineBusy: (after.busyTicks - before.busyTicks) / total, postgres };
}
