import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { idsOf, newQueue, read, sendAll, sortedIdsOf } from './support/queues.ts';

const db = useTestDatabase();

interface StoredMessage {
  msg_id: string;
  read_ct: number;
  message: unknown;
  headers: unknown;
  /** vt - enqueued_at, in seconds. */
  delay: number;
  vt: Date;
}

async function stored(queue: string, id: number): Promise<StoredMessage | undefined> {
  const [row] = await db.query<StoredMessage & Record<string, unknown>>(
    `select msg_id, read_ct, message, headers, vt, extract(epoch from vt - enqueued_at)::float8 as delay
       from pgmq.q_${queue} where msg_id = $1`,
    [id],
  );
  return row;
}

describe('pgmq.send', () => {
  it('returns the new msg_id in a column named send', async () => {
    const queue = await newQueue(db);
    const rows = await db.query('select send from pgmq.send($1, $2::jsonb)', [queue, '{"n":1}']);
    expect(rows).toEqual([{ send: '1' }]);
  });

  it('stores the message visible at once, unread, without headers', async () => {
    const queue = await newQueue(db);
    const [id] = await sendAll(db, queue, [{ hello: 'world' }]);
    const message = await stored(queue, id as number);
    expect(message).toMatchObject({ read_ct: 0, message: { hello: 'world' }, headers: null });
    expect(message?.delay).toBeGreaterThanOrEqual(0);
    expect(message?.delay).toBeLessThan(1);
  });

  it('hands messages out first in, first out', async () => {
    const queue = await newQueue(db);
    const ids = await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    const first = await read(db, queue, 30, 2);
    const second = await read(db, queue, 30, 1);
    const rest = await read(db, queue, 30, 10);
    expect([...sortedIdsOf(first), ...idsOf(second), ...sortedIdsOf(rest)]).toEqual(ids);
    expect(second.map((row) => row.message)).toEqual([{ n: 3 }]);
  });

  it('with an integer delay, sets vt that many seconds ahead and hides the message until then', async () => {
    const queue = await newQueue(db);
    const [row] = await db.query<{ send: string }>('select send from pgmq.send($1, $2::jsonb, $3::integer)', [
      queue,
      '{"n":1}',
      1,
    ]);
    const id = Number(row?.send);
    const message = await stored(queue, id);
    expect(message?.delay).toBeGreaterThanOrEqual(1);
    expect(message?.delay).toBeLessThan(2);
    expect(await read(db, queue, 30, 1)).toEqual([]);
    const visible = await waitFor(async () => (await read(db, queue, 30, 1)).length > 0 && true, {
      description: 'the delayed message to become visible',
    });
    expect(visible).toBe(true);
  });

  it('with a timestamptz delay, sets vt to exactly that time', async () => {
    const queue = await newQueue(db);
    const at = '2999-01-02T03:04:05.678Z';
    const [row] = await db.query<{ send: string }>('select send from pgmq.send($1, $2::jsonb, $3::timestamptz)', [
      queue,
      '{"n":1}',
      at,
    ]);
    const message = await stored(queue, Number(row?.send));
    expect(message?.vt.toISOString()).toBe(at);
    expect(await read(db, queue, 30, 1)).toEqual([]);
  });

  it('with a timestamptz delay in the past, the message is visible at once', async () => {
    const queue = await newQueue(db);
    await db.query("select pgmq.send($1, '{}'::jsonb, now() - interval '1 minute')", [queue]);
    expect(await read(db, queue, 30, 1)).toHaveLength(1);
  });

  it('stores headers', async () => {
    const queue = await newQueue(db);
    const [row] = await db.query<{ send: string }>('select send from pgmq.send($1, $2::jsonb, $3::jsonb)', [
      queue,
      '{"n":1}',
      '{"trace":"abc"}',
    ]);
    const message = await stored(queue, Number(row?.send));
    expect(message).toMatchObject({ message: { n: 1 }, headers: { trace: 'abc' } });
    expect(message?.delay).toBeLessThan(1);
  });

  it('stores headers with an integer delay', async () => {
    const queue = await newQueue(db);
    const [row] = await db.query<{ send: string }>(
      'select send from pgmq.send($1, $2::jsonb, $3::jsonb, $4::integer)',
      [queue, '{"n":1}', '{"trace":"abc"}', 30],
    );
    const message = await stored(queue, Number(row?.send));
    expect(message).toMatchObject({ headers: { trace: 'abc' } });
    expect(message?.delay).toBeGreaterThanOrEqual(30);
    expect(message?.delay).toBeLessThan(31);
  });

  it('stores headers with a timestamptz delay', async () => {
    const queue = await newQueue(db);
    const at = '2999-05-06T07:08:09.000Z';
    const [row] = await db.query<{ send: string }>(
      'select send from pgmq.send($1, $2::jsonb, $3::jsonb, $4::timestamptz)',
      [queue, '{"n":1}', '{"trace":"abc"}', at],
    );
    const message = await stored(queue, Number(row?.send));
    expect(message).toMatchObject({ headers: { trace: 'abc' } });
    expect(message?.vt.toISOString()).toBe(at);
  });

  it('can be called with named arguments', async () => {
    const queue = await newQueue(db);
    const rows = await db.query(
      `select * from pgmq.send(queue_name => $1, msg => '{"n":1}'::jsonb, headers => '{"h":1}'::jsonb, delay => 0)`,
      [queue],
    );
    expect(rows).toEqual([{ send: '1' }]);
  });

  it('a send in a rolled-back transaction leaves nothing to read', async () => {
    const queue = await newQueue(db);
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgmq.send($1, '{}'::jsonb)", [queue]);
    await client.query('rollback');
    expect(await read(db, queue, 30, 1)).toEqual([]);
  });
});
