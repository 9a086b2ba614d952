/**
 * Checks on when a queue message becomes visible that hold however slowly the statements run: the
 * database's clock is read before the action that sets the visibility, so the message's vt must lie
 * between that reading + the delay and the clock at the check + the delay. (A check of "vt is about
 * now + delay" fails when a loaded machine takes longer than its tolerance between two statements.)
 */
import pg from 'pg';
import type { Sql } from './engine-driver.ts';

/** The database's clock, to read before an action (text: full microsecond precision). */
export async function databaseClock(db: Sql): Promise<string> {
  const [row] = await db.query<{ now: string }>('select clock_timestamp()::text as now');
  return row?.now as string;
}

/**
 * Expects message `msgId` of the flow's queue to become visible `seconds` after an action that
 * began after `since` (a databaseClock() reading): vt >= since + seconds, and vt <= now + seconds.
 */
export async function expectVisibleAfter(
  db: Sql,
  flowSlug: string,
  msgId: string,
  since: string,
  seconds: number,
): Promise<void> {
  const table = `pgmq.${pg.escapeIdentifier(`q_${flowSlug.toLowerCase()}`)}`;
  const [row] = await db.query<{ after_since: number; from_now: number }>(
    `select extract(epoch from vt - $2::timestamptz)::float8 as after_since,
            extract(epoch from vt - clock_timestamp())::float8 as from_now
       from ${table} where msg_id = $1::bigint`,
    [msgId, since],
  );
  expect(row).toBeDefined();
  expect(row?.after_since).toBeGreaterThanOrEqual(seconds);
  expect(row?.from_now).toBeLessThanOrEqual(seconds);
}
