import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  databaseClock,
  idsOf,
  MESSAGE_RECORD_COLUMNS,
  type MessageRow,
  newQueue,
  read,
  sendAll,
  sortedIdsOf,
} from './support/queues.ts';

const db = useTestDatabase();

async function readIf(queue: string, conditional: unknown): Promise<MessageRow[]> {
  return db.query<MessageRow & Record<string, unknown>>('select * from pgmq.read($1, 30, 10, $2::jsonb)', [
    queue,
    JSON.stringify(conditional),
  ]);
}

describe('pgmq.read', () => {
  it('returns message_record columns: msg_id, read_ct, enqueued_at, vt, message, headers', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    const result = await db.pool.query('select * from pgmq.read($1, 30, 1)', [queue]);
    expect(result.fields.map((field) => field.name)).toEqual(MESSAGE_RECORD_COLUMNS);
  });

  it('returns at most qty messages, lowest msg_id first', async () => {
    const queue = await newQueue(db);
    const ids = await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    expect(sortedIdsOf(await read(db, queue, 30, 3))).toEqual(ids.slice(0, 3));
  });

  it('returns nothing for qty 0', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    expect(await read(db, queue, 30, 0)).toEqual([]);
  });

  it('returns the new read_ct and vt, and enqueued_at, message and headers as sent', async () => {
    const queue = await newQueue(db);
    await db.query(`select pgmq.send($1, '{"n":1}'::jsonb, '{"h":1}'::jsonb)`, [queue]);
    const before = await databaseClock(db);
    const [message] = await read(db, queue, 30, 1);
    const after = await databaseClock(db);
    expect(message).toMatchObject({ msg_id: '1', read_ct: 1, message: { n: 1 }, headers: { h: 1 } });
    // 30 s after the read, by the database's clock: between the readings before and after it.
    expect(message?.vt.getTime()).toBeGreaterThanOrEqual(before.getTime() + 30_000);
    expect(message?.vt.getTime()).toBeLessThanOrEqual(after.getTime() + 30_000);
    const [row] = await db.query<{ read_ct: number; vt: Date }>(`select read_ct, vt from pgmq.q_${queue}`);
    expect(row).toEqual({ read_ct: 1, vt: message?.vt });
  });

  it('hides a message it returned until its vt', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }]);
    expect(idsOf(await read(db, queue, 30, 1))).toEqual([1]);
    expect(idsOf(await read(db, queue, 30, 10))).toEqual([2]);
    expect(await read(db, queue, 30, 10)).toEqual([]);
  });

  it('returns a message again once its vt has passed, with read_ct 2', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    await read(db, queue, 1, 1);
    expect(await read(db, queue, 1, 1)).toEqual([]);
    const [again] = await waitFor(
      async () => {
        const rows = await read(db, queue, 30, 1);
        return rows.length > 0 ? rows : undefined;
      },
      { description: 'the message to become visible again after its vt' },
    );
    expect(again).toMatchObject({ msg_id: '1', read_ct: 2 });
  });

  it('with vt 0, leaves the message visible to the next read', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    await read(db, queue, 0, 1);
    expect(await read(db, queue, 0, 1)).toMatchObject([{ msg_id: '1', read_ct: 2 }]);
  });

  it('skips messages that are not visible yet and returns later visible ones', async () => {
    const queue = await newQueue(db);
    await db.query('select pgmq.send($1, \'{"n":1}\'::jsonb, 60)', [queue]);
    await sendAll(db, queue, [{ n: 2 }]);
    expect(idsOf(await read(db, queue, 30, 10))).toEqual([2]);
  });

  it('with a conditional, returns only messages that contain it', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [
      { kind: 'a', n: 1 },
      { kind: 'b', n: 2 },
      { kind: 'a', n: 3 },
    ]);
    const matching = await readIf(queue, { kind: 'a' });
    expect(sortedIdsOf(matching)).toEqual([1, 3]);
    expect(matching.every((row) => (row.message as { kind: string }).kind === 'a')).toBe(true);
    expect(idsOf(await read(db, queue, 30, 10))).toEqual([2]);
  });

  it("with the default conditional '{}', returns every message, objects or not", async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, [1, 2], 'text', 7]);
    expect(sortedIdsOf(await readIf(queue, {}))).toEqual([1, 2, 3, 4]);
  });

  it('with a null conditional, returns every message', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, [1]]);
    const rows = await db.query<MessageRow & Record<string, unknown>>('select * from pgmq.read($1, 30, 10, null)', [
      queue,
    ]);
    expect(sortedIdsOf(rows)).toEqual([1, 2]);
  });
});
