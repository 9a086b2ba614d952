import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { sendAll } from './support/queues.ts';

const db = useTestDatabase();

async function relpersistence(relation: string): Promise<string | undefined> {
  const [row] = await db.query<{ relpersistence: string }>(
    'select relpersistence from pg_class where oid = to_regclass($1)',
    [relation],
  );
  return row?.relpersistence;
}

async function isWaitingForLock(pid: number): Promise<boolean> {
  const rows = await db.query("select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'", [pid]);
  return rows.length === 1;
}

async function listed(name: string) {
  const rows = await db.query<{ queue_name: string; is_partitioned: boolean; is_unlogged: boolean; created_at: Date }>(
    'select * from pgmq.list_queues() where queue_name = $1',
    [name],
  );
  return rows;
}

describe('pgmq.create', () => {
  it('creates the queue table, the archive table and the pgmq.meta row', async () => {
    await db.query("select pgmq.create('orders')");
    expect(await relpersistence('pgmq.q_orders')).toBe('p');
    expect(await relpersistence('pgmq.a_orders')).toBe('p');
    expect(await listed('orders')).toEqual([
      { queue_name: 'orders', is_partitioned: false, is_unlogged: false, created_at: expect.any(Date) },
    ]);
  });

  it('is idempotent: a second create keeps the queue and its messages', async () => {
    await db.query("select pgmq.create('twice')");
    await sendAll(db, 'twice', [{ n: 1 }]);
    await db.query("select pgmq.create('twice')");
    const [{ count }] = await db.query<{ count: number }>('select count(*)::int as count from pgmq.q_twice');
    expect(count).toBe(1);
    expect(await listed('twice')).toHaveLength(1);
  });

  it('is transactional: a create in a rolled-back transaction leaves nothing', async () => {
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgmq.create('rolled_back')");
    await client.query('rollback');
    await client.end();
    expect(await relpersistence('pgmq.q_rolled_back')).toBeUndefined();
    expect(await listed('rolled_back')).toEqual([]);
  });

  it('names the tables after the lower-cased name and keeps the name as given in pgmq.meta', async () => {
    await db.query("select pgmq.create('MixedCase')");
    expect(await relpersistence('pgmq.q_mixedcase')).toBe('p');
    expect(await listed('MixedCase')).toHaveLength(1);
    expect(await sendAll(db, 'MixedCase', [{ n: 1 }])).toEqual([1]);
  });

  it('quotes identifiers, so names with spaces and dashes work', async () => {
    await db.query("select pgmq.create('with space-and-dash')");
    expect(await relpersistence('pgmq."q_with space-and-dash"')).toBe('p');
    expect(await sendAll(db, 'with space-and-dash', [{ n: 1 }])).toEqual([1]);
  });

  it('numbers messages from 1 in each queue', async () => {
    await db.query("select pgmq.create('first_numbers'), pgmq.create('second_numbers')");
    expect(await sendAll(db, 'first_numbers', [{}, {}])).toEqual([1, 2]);
    expect(await sendAll(db, 'second_numbers', [{}])).toEqual([1]);
  });

  it('accepts a name of exactly 47 characters', async () => {
    const name = 'n'.repeat(47);
    await db.query('select pgmq.create($1)', [name]);
    expect(await listed(name)).toHaveLength(1);
    expect(await sendAll(db, name, [{ n: 1 }])).toEqual([1]);
  });

  it('two sessions creating the same queue at once both succeed', async () => {
    const first = await db.connect();
    const second = await db.connect();
    await first.query('begin');
    await first.query("select pgmq.create('raced')");
    const [{ pid }] = (await second.query<{ pid: number }>('select pg_backend_pid() as pid')).rows;
    const racing = second.query("select pgmq.create('raced')");
    await waitFor(() => isWaitingForLock(pid), { description: 'the second create to wait for the first' });
    await first.query('commit');
    await racing;
    expect(await listed('raced')).toHaveLength(1);
  });
});

describe('pgmq.create_unlogged', () => {
  it('makes the queue table unlogged and keeps the archive logged', async () => {
    await db.query("select pgmq.create_unlogged('fast')");
    expect(await relpersistence('pgmq.q_fast')).toBe('u');
    expect(await relpersistence('pgmq.a_fast')).toBe('p');
    expect(await listed('fast')).toEqual([
      { queue_name: 'fast', is_partitioned: false, is_unlogged: true, created_at: expect.any(Date) },
    ]);
  });

  it('gives a queue that sends, reads and archives like any other', async () => {
    await db.query("select pgmq.create_unlogged('fast_roundtrip')");
    const [id] = await sendAll(db, 'fast_roundtrip', [{ n: 1 }]);
    const rows = await db.query<{ msg_id: string }>("select * from pgmq.read('fast_roundtrip', 30, 1)");
    expect(rows.map((row) => Number(row.msg_id))).toEqual([id]);
    const [archived] = await db.query("select pgmq.archive('fast_roundtrip', $1::bigint)", [id]);
    expect(archived).toEqual({ archive: true });
  });
});

describe('pgmq.create_partitioned', () => {
  // The extension makes partitioned queues only where pg_partman is installed in the database (it
  // checks pg_extension, not what the server offers); the migrations never install it.
  it("fails with 'pg_partman is required for partitioned queues' where pg_partman is not installed, and creates nothing", async () => {
    await expect(db.query("select pgmq.create_partitioned('parts')")).rejects.toMatchObject({
      message: 'pg_partman is required for partitioned queues',
    });
    expect(await relpersistence('pgmq.q_parts')).toBeUndefined();
    expect(await listed('parts')).toEqual([]);
  });
});
