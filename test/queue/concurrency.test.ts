/** Readers on several connections: skip locked, never the same message twice, rollback-safe. */
import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { idsOf, type MessageRow, newQueue, read } from './support/queues.ts';

const db = useTestDatabase();

async function readOn(client: pg.Client, queue: string, qty: number): Promise<MessageRow[]> {
  return (await client.query<MessageRow>('select * from pgmq.read($1, 30, $2)', [queue, qty])).rows;
}

describe('pgmq.read under concurrency', () => {
  it('two readers on two connections never get the same message', async () => {
    const queue = await newQueue(db);
    const total = 400;
    await db.query("select pgmq.send_batch($1, array_fill('{}'::jsonb, array[$2::int]))", [queue, total]);
    const drain = async (client: pg.Client): Promise<number[]> => {
      const got: number[] = [];
      for (;;) {
        const rows = await readOn(client, queue, 3);
        if (rows.length === 0) return got;
        got.push(...idsOf(rows));
      }
    };
    const readers = await Promise.all([db.connect('reader a'), db.connect('reader b')]);
    const [a, b] = await Promise.all(readers.map(drain));
    const all = [...(a ?? []), ...(b ?? [])];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(total);
    // Both really read: had one connection taken everything, the test would prove nothing.
    expect(a?.length).toBeGreaterThan(0);
    expect(b?.length).toBeGreaterThan(0);
  });

  it('a reader skips a message another open transaction has read, without waiting for it', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, array[\'{"n":1}\', \'{"n":2}\']::jsonb[])', [queue]);
    const first = await db.connect('reader a');
    const second = await db.connect('reader b');
    await first.query('begin');
    expect(idsOf(await readOn(first, queue, 1))).toEqual([1]);
    await second.query("set statement_timeout = '5s'");
    expect(idsOf(await readOn(second, queue, 1))).toEqual([2]);
    await first.query('commit');
  });

  it('a read in a rolled-back transaction leaves the message visible and its read_ct unchanged', async () => {
    const queue = await newQueue(db);
    await db.query(`select pgmq.send($1, '{"n":1}'::jsonb)`, [queue]);
    const client = await db.connect();
    await client.query('begin');
    expect(idsOf(await readOn(client, queue, 1))).toEqual([1]);
    await client.query('rollback');
    expect(await read(db, queue, 30, 1)).toMatchObject([{ msg_id: '1', read_ct: 1 }]);
  });

  it('pop on two connections never returns the same message', async () => {
    const queue = await newQueue(db);
    const total = 200;
    await db.query("select pgmq.send_batch($1, array_fill('{}'::jsonb, array[$2::int]))", [queue, total]);
    const drain = async (client: pg.Client): Promise<number[]> => {
      const got: number[] = [];
      for (;;) {
        const { rows } = await client.query<MessageRow>('select * from pgmq.pop($1)', [queue]);
        if (rows.length === 0) return got;
        got.push(...idsOf(rows));
      }
    };
    const poppers = await Promise.all([db.connect('popper a'), db.connect('popper b')]);
    const [a, b] = await Promise.all(poppers.map(drain));
    const all = [...(a ?? []), ...(b ?? [])];
    expect(new Set(all).size).toBe(total);
    expect(all.length).toBe(total);
  });
});
