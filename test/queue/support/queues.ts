/** Small helpers for the queue tests: fresh queue names and typed rows. */
import type { TestDatabase } from '../../support/test-database.ts';

/** A row of pgmq.message_record as node-postgres returns it (bigint as a string). */
export interface MessageRow {
  msg_id: string;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  message: unknown;
  headers: unknown;
}

export const MESSAGE_RECORD_COLUMNS = ['msg_id', 'read_ct', 'enqueued_at', 'vt', 'message', 'headers'];

let counter = 0;

/** Creates a queue with a name no other test of the file uses, and returns the name. */
export async function newQueue(db: TestDatabase, prefix = 'queue'): Promise<string> {
  counter += 1;
  const name = `${prefix}_${counter}`;
  await db.query('select pgmq.create($1)', [name]);
  return name;
}

/** Sends one message per body, in order, and returns their ids. */
export async function sendAll(db: TestDatabase, queue: string, bodies: unknown[]): Promise<number[]> {
  const ids: number[] = [];
  for (const body of bodies) {
    const [row] = await db.query<{ send: string }>('select send from pgmq.send($1, $2::jsonb)', [
      queue,
      JSON.stringify(body),
    ]);
    ids.push(Number(row?.send));
  }
  return ids;
}

/**
 * The database's clock. Readings taken before and after a statement bound the times it sets, so
 * checks built on them hold however slowly the statements run.
 */
export async function databaseClock(db: TestDatabase): Promise<Date> {
  const [row] = await db.query<{ now: Date }>('select clock_timestamp() as now');
  return row?.now as Date;
}

export async function read(db: TestDatabase, queue: string, vt: number, qty: number): Promise<MessageRow[]> {
  return db.query<MessageRow & Record<string, unknown>>('select * from pgmq.read($1, $2, $3)', [queue, vt, qty]);
}

export function idsOf(rows: ReadonlyArray<{ msg_id: string }>): number[] {
  return rows.map((row) => Number(row.msg_id));
}

/**
 * The ids of one read's rows in ascending order: a read takes the lowest visible ids, but (as
 * with the extension) the order of the rows it returns is not part of the contract.
 */
export function sortedIdsOf(rows: ReadonlyArray<{ msg_id: string }>): number[] {
  return idsOf(rows).sort((a, b) => a - b);
}
