/**
 * What a workload cost the database, as differences of server counters taken before and after it:
 * commits and deadlocks from pg_stat_database, write transactions from the transaction id counter, statements from pg_stat_statements (when the server
 * loads it; `null` otherwise, e.g. on the embedded server or CI), and WAL bytes from the WAL
 * position (server-wide: other activity on the server adds to it).
 *
 * pg_stat_database reaches a backend's counts when it ends (or within seconds of going idle), so
 * take the "after" reading once the workload's connections are gone (BenchServer.waitForDisconnect).
 * pg_stat_statements counts top-level statements as they end (utility statements such as BEGIN and
 * COMMIT included: each is a round trip), per database.
 */
import type { BenchDatabase, BenchServer } from './server.ts';

export interface WorkReading {
  readonly commits: number;
  /** The server's next transaction id: write transactions (those that get an id) advance it. */
  readonly nextXid: number;
  readonly deadlocks: number;
  readonly statements: number | null;
  readonly walLsn: string;
}

export interface WorkDelta {
  /**
   * pg_stat_database.xact_commit: every transaction, read-only ones included; a connection that
   * LISTENs commits one each time it reads the notifications that arrived while it was idle.
   */
  readonly commits: number;
  /**
   * Transactions that wrote (got a transaction id), server-wide: what costs a WAL flush at commit.
   * Other activity on the server adds to it.
   */
  readonly writeTransactions: number;
  readonly deadlocks: number;
  /** null: pg_stat_statements is not loaded on this server. */
  readonly statements: number | null;
  readonly walBytes: number;
}

const statementsAvailable = new WeakMap<BenchServer, Promise<boolean>>();

/**
 * Whether pg_stat_statements can be read: the server preloads it and the admin database has (or
 * can be given) the extension. Checked once per server.
 */
export function hasStatementCounts(server: BenchServer): Promise<boolean> {
  let known = statementsAvailable.get(server);
  if (known === undefined) {
    known = (async () => {
      try {
        const [row] = await server.adminQuery<{ preload: string }>(
          `select current_setting('shared_preload_libraries') as preload`,
        );
        if (!(row?.preload ?? '').split(',').some((name) => name.trim() === 'pg_stat_statements')) return false;
        await server.adminQuery('create extension if not exists pg_stat_statements');
        await server.adminQuery('select count(*) from pg_stat_statements');
        return true;
      } catch {
        return false;
      }
    })();
    statementsAvailable.set(server, known);
  }
  return known;
}

export async function readWork(server: BenchServer, database: BenchDatabase): Promise<WorkReading> {
  await server.adminQuery('select pg_stat_clear_snapshot()');
  const [row] = await server.adminQuery<{ commits: string; deadlocks: string; lsn: string; xid: string }>(
    `select xact_commit as commits, deadlocks, pg_current_wal_lsn()::text as lsn,
            pg_snapshot_xmax(pg_current_snapshot())::text as xid
       from pg_stat_database where datname = $1`,
    [database.name],
  );
  let statements: number | null = null;
  if (await hasStatementCounts(server)) {
    const [counted] = await server.adminQuery<{ calls: string }>(
      `select coalesce(sum(calls), 0) as calls from pg_stat_statements
        where dbid = (select oid from pg_database where datname = $1)`,
      [database.name],
    );
    statements = Number(counted?.calls ?? 0);
  }
  return {
    commits: Number(row?.commits ?? 0),
    nextXid: Number(row?.xid ?? 0),
    deadlocks: Number(row?.deadlocks ?? 0),
    statements,
    walLsn: row?.lsn ?? '0/0',
  };
}

export async function workBetween(server: BenchServer, before: WorkReading, after: WorkReading): Promise<WorkDelta> {
  return {
    commits: after.commits - before.commits,
    writeTransactions: after.nextXid - before.nextXid,
    deadlocks: after.deadlocks - before.deadlocks,
    statements: before.statements === null || after.statements === null ? null : after.statements - before.statements,
    walBytes: await server.walBytesBetween(before.walLsn, after.walLsn),
  };
}

/** The server's next transaction id (read without taking one). */
export async function readNextXid(server: BenchServer): Promise<number> {
  const [row] = await server.adminQuery<{ xid: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as xid');
  return Number(row?.xid ?? 0);
}
