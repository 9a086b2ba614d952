import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { idsOf, MESSAGE_RECORD_COLUMNS, type MessageRow, newQueue, sendAll } from './support/queues.ts';

const db = useTestDatabase();

/**
 * Longer than any test may run (Jest gives each 30 s): a poll that returns within a test returned
 * because of a message, not because its time was up.
 */
const LONGER_THAN_A_TEST = 300;

interface Poller {
  /** Resolves with the rows and how long the call took. */
  readonly result: Promise<{ rows: MessageRow[]; elapsedMs: number }>;
  readonly pid: number;
}

/** Starts read_with_poll on its own connection. */
async function startPoll(queue: string, maxPollSeconds: number, pollIntervalMs: number, conditional = {}) {
  const client: pg.Client = await db.connect('poller');
  const [{ pid }] = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows;
  const started = Date.now();
  const result = client
    .query<MessageRow>('select * from pgmq.read_with_poll($1, 30, 1, $2, $3, $4::jsonb)', [
      queue,
      maxPollSeconds,
      pollIntervalMs,
      JSON.stringify(conditional),
    ])
    .then(({ rows }) => ({ rows, elapsedMs: Date.now() - started }));
  return { result, pid } satisfies Poller;
}

/** True once the poller's backend sleeps in pg_sleep, i.e. it has read and found nothing. */
async function isSleeping(poller: Poller): Promise<boolean> {
  const rows = await db.query("select 1 from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'", [poller.pid]);
  return rows.length === 1;
}

describe('pgmq.read_with_poll', () => {
  it('returns a visible message at once, with message_record columns', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    const result = await db.pool.query('select * from pgmq.read_with_poll($1, 30, 1, $2)', [queue, LONGER_THAN_A_TEST]);
    expect(result.fields.map((field) => field.name)).toEqual(MESSAGE_RECORD_COLUMNS);
    expect(result.rows).toMatchObject([{ msg_id: '1', read_ct: 1, message: { n: 1 } }]);
  });

  it('sleeps in pg_sleep between reads instead of spinning', async () => {
    const queue = await newQueue(db);
    const poller = await startPoll(queue, 2, 100);
    await waitFor(() => isSleeping(poller), { description: 'the poller to sleep in pg_sleep' });
    expect((await poller.result).rows).toEqual([]);
  });

  it('returns as soon as a message is sent during the wait, well before max_poll_seconds', async () => {
    const queue = await newQueue(db);
    const poller = await startPoll(queue, LONGER_THAN_A_TEST, 50);
    await waitFor(() => isSleeping(poller), { description: 'the poller to find the queue empty' });
    await sendAll(db, queue, [{ n: 1 }]);
    const { rows } = await poller.result;
    expect(idsOf(rows)).toEqual([1]);
  });

  it('ignores a message whose send is not committed, and returns it once it is', async () => {
    const queue = await newQueue(db);
    const sender = await db.connect('sender');
    await sender.query('begin');
    await sender.query(`select pgmq.send($1, '{"n":1}'::jsonb)`, [queue]);
    const poller = await startPoll(queue, LONGER_THAN_A_TEST, 50);
    await waitFor(() => isSleeping(poller), { description: 'the poller to read past the uncommitted message' });
    await sender.query('commit');
    const { rows } = await poller.result;
    expect(idsOf(rows)).toEqual([1]);
  });

  it('returns nothing after max_poll_seconds when no message comes', async () => {
    const queue = await newQueue(db);
    const poller = await startPoll(queue, 1, 100);
    const { rows, elapsedMs } = await poller.result;
    expect(rows).toEqual([]);
    // A lower bound only: a busy machine makes the call slower, never faster.
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
  });

  it('with a conditional, keeps waiting past messages that do not match', async () => {
    const queue = await newQueue(db);
    const poller = await startPoll(queue, LONGER_THAN_A_TEST, 50, { kind: 'wanted' });
    await sendAll(db, queue, [{ kind: 'other' }]);
    await waitFor(() => isSleeping(poller), { description: 'the poller to skip the other message' });
    await sendAll(db, queue, [{ kind: 'wanted' }]);
    const { rows } = await poller.result;
    expect(rows.map((row) => row.message)).toEqual([{ kind: 'wanted' }]);
  });
});
