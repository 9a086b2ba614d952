/**
 * The queue name rules (exact texts, tools match them) and the error for a missing queue, checked
 * on every function that takes a queue name.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { pgmqServer } from './support/pgmq-server.ts';

const db = useTestDatabase();
const server = await pgmqServer();

const INVALID_CHARACTERS = "queue name contains invalid characters: $, ;, --, or \\'";
const TOO_LONG = 'queue name is too long, maximum length is 47 characters';
const BAD_NAMES = ['has$dollar', 'has;semicolon', 'has--dashes', "has'quote"];

/** Every call that takes a queue name ($1), one per overload. */
const CALLS_ON_A_QUEUE = [
  "pgmq.send($1, '{}'::jsonb)",
  "pgmq.send($1, '{}'::jsonb, 0)",
  "pgmq.send($1, '{}'::jsonb, now())",
  "pgmq.send($1, '{}'::jsonb, '{}'::jsonb)",
  "pgmq.send($1, '{}'::jsonb, '{}'::jsonb, 0)",
  "pgmq.send($1, '{}'::jsonb, '{}'::jsonb, now())",
  "pgmq.send_batch($1, array['{}']::jsonb[])",
  "pgmq.send_batch($1, array['{}']::jsonb[], 0)",
  "pgmq.send_batch($1, array['{}']::jsonb[], now())",
  "pgmq.send_batch($1, array['{}']::jsonb[], array['{}']::jsonb[])",
  "pgmq.send_batch($1, array['{}']::jsonb[], array['{}']::jsonb[], 0)",
  "pgmq.send_batch($1, array['{}']::jsonb[], array['{}']::jsonb[], now())",
  'pgmq.read($1, 30, 1)',
  'pgmq.read($1, 30, 1, \'{"a":1}\')',
  'pgmq.read_with_poll($1, 30, 1, 1, 50)',
  'pgmq.pop($1)',
  'pgmq.archive($1, 1::bigint)',
  'pgmq.archive($1, array[1]::bigint[])',
  'pgmq.delete($1, 1::bigint)',
  'pgmq.delete($1, array[1]::bigint[])',
  'pgmq.set_vt($1, 1, 0)',
  'pgmq.purge_queue($1)',
  'pgmq.metrics($1)',
  'pgmq.detach_archive($1)',
];

const CALLS_THAT_CREATE = ['pgmq.create($1)', 'pgmq.create_unlogged($1)', 'pgmq.create_partitioned($1)'];

const ALL_CALLS = [
  ...CALLS_THAT_CREATE,
  ...CALLS_ON_A_QUEUE,
  'pgmq.drop_queue($1)',
  "pgmq.format_table_name($1, 'q')",
  'pgmq.validate_queue_name($1)',
];

describe('queue name rules', () => {
  it.each(ALL_CALLS)('%s rejects a name with $, ;, -- or a quote, with the exact error text', async (call) => {
    for (const name of BAD_NAMES) {
      await expect(db.query(`select * from ${call}`, [name])).rejects.toMatchObject({ message: INVALID_CHARACTERS });
    }
  });

  it.each([...CALLS_THAT_CREATE, 'pgmq.validate_queue_name($1)'])(
    '%s rejects a name longer than 47 characters, with the exact error text',
    async (call) => {
      await expect(db.query(`select * from ${call}`, ['x'.repeat(48)])).rejects.toMatchObject({ message: TOO_LONG });
    },
  );

  it('counts a name in bytes on the fallback: two 40-character names of é (80 bytes) would share a truncated table', async () => {
    const first = 'é'.repeat(40);
    const second = `${'é'.repeat(39)}è`;
    if (server.implementation === 'fallback') {
      for (const name of [first, second]) {
        await expect(db.query('select pgmq.create($1)', [name])).rejects.toMatchObject({
          message: TOO_LONG,
          detail: expect.stringContaining('80 bytes'),
        });
      }
      expect(await db.query("select * from pgmq.list_queues() where queue_name like 'é%'")).toEqual([]);
    } else {
      // pgmq 1.5 counts characters: both are accepted, and PostgreSQL truncates their tables' names to
      // 63 bytes, the same for both. The engine never gives pgmq such names (flow slugs are ASCII).
      await db.query('select pgmq.create($1)', [first]);
      await db.query('select pgmq.create($1)', [second]);
      const [row] = await db.query<{ tables: number }>(
        "select count(*)::int as tables from pg_class where relnamespace = 'pgmq'::regnamespace and relname like 'q_é%' and relkind = 'r'",
      );
      expect(row?.tables).toBe(1);
    }
  });

  it('a rejected name creates nothing', async () => {
    await expect(db.query("select pgmq.create('bad;name')")).rejects.toThrow(INVALID_CHARACTERS);
    await expect(db.query('select pgmq.create($1)', ['y'.repeat(48)])).rejects.toThrow(TOO_LONG);
    const rows = await db.query(
      "select relname from pg_class where relnamespace = 'pgmq'::regnamespace and (relname like '%bad%' or relname like '%yyy%')",
    );
    expect(rows).toEqual([]);
    expect(
      await db.query("select * from pgmq.list_queues() where queue_name like '%bad%' or queue_name like '%yyy%'"),
    ).toEqual([]);
  });
});

describe('a missing queue', () => {
  it.each(CALLS_ON_A_QUEUE)('%s fails with SQLSTATE 42P01 (undefined table)', async (call) => {
    await expect(db.query(`select * from ${call}`, ['no_such_queue'])).rejects.toMatchObject({ code: '42P01' });
  });
});
