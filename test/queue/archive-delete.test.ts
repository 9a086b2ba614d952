import { useTestDatabase } from '../support/test-database.ts';
import { databaseClock, idsOf, newQueue, read, sendAll } from './support/queues.ts';

const db = useTestDatabase();

async function queueIds(queue: string): Promise<number[]> {
  return idsOf(await db.query<{ msg_id: string }>(`select msg_id from pgmq.q_${queue} order by msg_id`));
}

async function archiveIds(queue: string): Promise<number[]> {
  return idsOf(await db.query<{ msg_id: string }>(`select msg_id from pgmq.a_${queue} order by msg_id`));
}

describe('pgmq.archive', () => {
  it('moves one message to the archive with all its fields and returns true', async () => {
    const queue = await newQueue(db);
    await db.query(`select pgmq.send($1, '{"n":1}'::jsonb, '{"h":1}'::jsonb)`, [queue]);
    const [read1] = await read(db, queue, 30, 1);
    expect(await db.query('select archive from pgmq.archive($1, 1::bigint)', [queue])).toEqual([{ archive: true }]);
    expect(await queueIds(queue)).toEqual([]);
    const [archived] = await db.query(`select * from pgmq.a_${queue}`);
    expect(archived).toEqual({
      msg_id: '1',
      read_ct: 1,
      enqueued_at: read1?.enqueued_at,
      archived_at: expect.any(Date),
      vt: read1?.vt,
      message: { n: 1 },
      headers: { h: 1 },
    });
  });

  it('returns false for a message that is not in the queue', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select archive from pgmq.archive($1, 42::bigint)', [queue])).toEqual([{ archive: false }]);
  });

  it('archives a batch and returns the ids actually archived', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const rows = await db.query<{ archive: string }>('select archive from pgmq.archive($1, $2::bigint[])', [
      queue,
      [3, 1, 99],
    ]);
    expect(rows.map((row) => Number(row.archive)).sort()).toEqual([1, 3]);
    expect(await queueIds(queue)).toEqual([2]);
    expect(await archiveIds(queue)).toEqual([1, 3]);
  });

  it('archives nothing for an empty batch', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    expect(await db.query("select * from pgmq.archive($1, '{}'::bigint[])", [queue])).toEqual([]);
    expect(await queueIds(queue)).toEqual([1]);
  });
});

describe('pgmq.delete', () => {
  it('deletes one message without archiving it and returns true', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }]);
    expect(await db.query('select delete from pgmq.delete($1, 1::bigint)', [queue])).toEqual([{ delete: true }]);
    expect(await queueIds(queue)).toEqual([2]);
    expect(await archiveIds(queue)).toEqual([]);
  });

  it('returns false for a message that is not in the queue', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select delete from pgmq.delete($1, 7::bigint)', [queue])).toEqual([{ delete: false }]);
  });

  it('deletes a batch and returns the ids actually deleted', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const rows = await db.query<{ delete: string }>('select delete from pgmq.delete($1, $2::bigint[])', [
      queue,
      [2, 3, 50],
    ]);
    expect(rows.map((row) => Number(row.delete)).sort()).toEqual([2, 3]);
    expect(await queueIds(queue)).toEqual([1]);
    expect(await archiveIds(queue)).toEqual([]);
  });
});

describe('pgmq.pop', () => {
  it('deletes and returns the first visible message with read_ct unchanged', async () => {
    const queue = await newQueue(db);
    await db.query(`select pgmq.send($1, '{"n":1}'::jsonb, 60)`, [queue]);
    await sendAll(db, queue, [{ n: 2 }, { n: 3 }]);
    const result = await db.pool.query('select * from pgmq.pop($1)', [queue]);
    expect(result.rows).toMatchObject([{ msg_id: '2', read_ct: 0, message: { n: 2 } }]);
    expect(result.fields.map((field) => field.name)).toEqual([
      'msg_id',
      'read_ct',
      'enqueued_at',
      'vt',
      'message',
      'headers',
    ]);
    expect(await queueIds(queue)).toEqual([1, 3]);
    expect(await archiveIds(queue)).toEqual([]);
  });

  it('returns nothing from an empty queue', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select * from pgmq.pop($1)', [queue])).toEqual([]);
  });
});

describe('pgmq.set_vt', () => {
  it('moves vt to that many seconds from now and returns the message with it', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    const before = await databaseClock(db);
    const [row] = await db.query<{ msg_id: string; read_ct: number; vt: Date }>(
      'select * from pgmq.set_vt($1, 1, 120)',
      [queue],
    );
    const after = await databaseClock(db);
    expect(row).toMatchObject({ msg_id: '1', read_ct: 0 });
    expect(row?.vt.getTime()).toBeGreaterThanOrEqual(before.getTime() + 120_000);
    expect(row?.vt.getTime()).toBeLessThanOrEqual(after.getTime() + 120_000);
    expect(await read(db, queue, 30, 1)).toEqual([]);
  });

  it('with vt 0, makes a read message visible again', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    await read(db, queue, 300, 1);
    await db.query('select pgmq.set_vt($1, 1, 0)', [queue]);
    expect(await read(db, queue, 30, 1)).toMatchObject([{ msg_id: '1', read_ct: 2 }]);
  });

  it('returns nothing for a message that is not in the queue', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select * from pgmq.set_vt($1, 5, 10)', [queue])).toEqual([]);
  });
});
