import { useTestDatabase } from '../support/test-database.ts';
import { databaseClock, newQueue, read, sendAll } from './support/queues.ts';

const db = useTestDatabase();

interface Metrics {
  queue_name: string;
  queue_length: string;
  newest_msg_age_sec: number | null;
  oldest_msg_age_sec: number | null;
  total_messages: string;
  scrape_time: Date;
  queue_visible_length: string;
}

async function metrics(queue: string): Promise<Metrics | undefined> {
  const [row] = await db.query<Metrics & Record<string, unknown>>('select * from pgmq.metrics($1)', [queue]);
  return row;
}

describe('pgmq.metrics', () => {
  it('reports an empty new queue: no messages, no ages, nothing sent yet', async () => {
    const queue = await newQueue(db);
    expect(await metrics(queue)).toEqual({
      queue_name: queue,
      queue_length: '0',
      newest_msg_age_sec: null,
      oldest_msg_age_sec: null,
      total_messages: '0',
      scrape_time: expect.any(Date),
      queue_visible_length: '0',
    });
  });

  it('counts messages in the queue, visible ones, and every message ever sent', async () => {
    const queue = await newQueue(db);
    const since = await databaseClock(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await db.query('select pgmq.archive($1, 4::bigint)', [queue]);
    await read(db, queue, 30, 1);
    const row = await metrics(queue);
    expect(row).toMatchObject({ queue_length: '3', queue_visible_length: '2', total_messages: '4' });
    // No older than the time since just before the sends, however long the statements took.
    const elapsed = ((row?.scrape_time.getTime() ?? 0) - since.getTime()) / 1000;
    expect(row?.oldest_msg_age_sec).toBeLessThanOrEqual(Math.ceil(elapsed + 0.001));
    expect(row?.newest_msg_age_sec).toBeLessThanOrEqual(row?.oldest_msg_age_sec ?? 0);
  });

  it('reports message ages in seconds', async () => {
    const queue = await newQueue(db);
    // One transaction: the ages are measured from the same now() as the rows were written with.
    const client = await db.connect();
    await client.query('begin');
    await client.query(
      `insert into pgmq.q_${queue} (enqueued_at, vt, message)
       values (now() - interval '90 seconds', now(), '{}'), (now() - interval '10 seconds', now(), '{}')`,
    );
    const { rows } = await client.query('select * from pgmq.metrics($1)', [queue]);
    await client.query('commit');
    await client.end();
    expect(rows[0]).toMatchObject({ oldest_msg_age_sec: 90, newest_msg_age_sec: 10 });
  });

  it('has the metrics_result columns in order', async () => {
    const queue = await newQueue(db);
    const result = await db.pool.query('select * from pgmq.metrics($1)', [queue]);
    expect(result.fields.map((field) => field.name)).toEqual([
      'queue_name',
      'queue_length',
      'newest_msg_age_sec',
      'oldest_msg_age_sec',
      'total_messages',
      'scrape_time',
      'queue_visible_length',
    ]);
  });
});

describe('pgmq.metrics_all', () => {
  it('reports every queue with its own counts', async () => {
    const first = await newQueue(db, 'all');
    const second = await newQueue(db, 'all');
    await sendAll(db, first, [{ n: 1 }, { n: 2 }]);
    await sendAll(db, second, [{ n: 1 }]);
    const rows = await db.query<Metrics & Record<string, unknown>>(
      "select * from pgmq.metrics_all() where queue_name like 'all%' order by queue_name",
    );
    expect(rows.map((row) => [row.queue_name, row.queue_length, row.total_messages])).toEqual([
      [first, '2', '2'],
      [second, '1', '1'],
    ]);
  });
});
