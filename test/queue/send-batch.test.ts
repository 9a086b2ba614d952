import { useTestDatabase } from '../support/test-database.ts';
import { idsOf, newQueue, read, sortedIdsOf } from './support/queues.ts';

const db = useTestDatabase();

interface StoredMessage {
  msg_id: string;
  message: unknown;
  headers: unknown;
  vt: Date;
  /** vt - enqueued_at, in seconds. */
  delay: number;
}

async function storedAll(queue: string): Promise<StoredMessage[]> {
  return db.query<StoredMessage & Record<string, unknown>>(
    `select msg_id, message, headers, vt, extract(epoch from vt - enqueued_at)::float8 as delay
       from pgmq.q_${queue} order by msg_id`,
  );
}

function json(values: unknown[]): string[] {
  return values.map((value) => JSON.stringify(value));
}

describe('pgmq.send_batch', () => {
  it('returns ascending msg_ids in a column named send_batch, one per message, in array order', async () => {
    const queue = await newQueue(db);
    const rows = await db.query<{ send_batch: string }>('select send_batch from pgmq.send_batch($1, $2::jsonb[])', [
      queue,
      json([{ n: 1 }, { n: 2 }, { n: 3 }]),
    ]);
    expect(rows).toEqual([{ send_batch: '1' }, { send_batch: '2' }, { send_batch: '3' }]);
    const stored = await storedAll(queue);
    expect(stored.map((row) => [Number(row.msg_id), row.message])).toEqual([
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 3 }],
    ]);
    expect(stored.every((row) => row.headers === null && row.delay < 1)).toBe(true);
  });

  it('sends nothing for an empty array', async () => {
    const queue = await newQueue(db);
    expect(await db.query("select * from pgmq.send_batch($1, '{}'::jsonb[])", [queue])).toEqual([]);
    expect(await storedAll(queue)).toEqual([]);
  });

  it('sends nothing for a null array', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select * from pgmq.send_batch($1, null::jsonb[])', [queue])).toEqual([]);
    expect(await storedAll(queue)).toEqual([]);
  });

  it('with an integer delay, hides every message of the batch for that many seconds', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::integer)', [queue, json([{}, {}]), 30]);
    const stored = await storedAll(queue);
    expect(stored.map((row) => row.delay >= 30 && row.delay < 31)).toEqual([true, true]);
    expect(await read(db, queue, 30, 10)).toEqual([]);
  });

  it('with a timestamptz delay, sets every vt to that time', async () => {
    const queue = await newQueue(db);
    const at = '2999-01-02T03:04:05.000Z';
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::timestamptz)', [queue, json([{}, {}]), at]);
    expect((await storedAll(queue)).map((row) => row.vt.toISOString())).toEqual([at, at]);
  });

  it('pairs headers[i] with msgs[i]', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::jsonb[])', [
      queue,
      json([{ n: 1 }, { n: 2 }]),
      json([{ h: 1 }, { h: 2 }]),
    ]);
    expect((await storedAll(queue)).map((row) => [row.message, row.headers])).toEqual([
      [{ n: 1 }, { h: 1 }],
      [{ n: 2 }, { h: 2 }],
    ]);
  });

  it('gives null headers to the messages past the end of a shorter headers array', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::jsonb[])', [
      queue,
      json([{ n: 1 }, { n: 2 }, { n: 3 }]),
      json([{ h: 1 }]),
    ]);
    expect((await storedAll(queue)).map((row) => row.headers)).toEqual([{ h: 1 }, null, null]);
  });

  it('applies headers with an integer delay', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::jsonb[], $4::integer)', [
      queue,
      json([{ n: 1 }]),
      json([{ h: 1 }]),
      30,
    ]);
    const [row] = await storedAll(queue);
    expect(row?.headers).toEqual({ h: 1 });
    expect(row?.delay).toBeGreaterThanOrEqual(30);
    expect(row?.delay).toBeLessThan(31);
  });

  it('applies headers with a timestamptz delay', async () => {
    const queue = await newQueue(db);
    const at = '2999-01-02T03:04:05.000Z';
    await db.query('select pgmq.send_batch($1, $2::jsonb[], $3::jsonb[], $4::timestamptz)', [
      queue,
      json([{ n: 1 }]),
      json([{ h: 1 }]),
      at,
    ]);
    const [row] = await storedAll(queue);
    expect(row?.headers).toEqual({ h: 1 });
    expect(row?.vt.toISOString()).toBe(at);
  });

  it('an earlier batch is read before a later one', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send_batch($1, $2::jsonb[])', [queue, json([{ n: 1 }, { n: 2 }])]);
    await db.query('select pgmq.send_batch($1, $2::jsonb[])', [queue, json([{ n: 3 }])]);
    expect(sortedIdsOf(await read(db, queue, 30, 2))).toEqual([1, 2]);
    expect(idsOf(await read(db, queue, 30, 2))).toEqual([3]);
  });
});
