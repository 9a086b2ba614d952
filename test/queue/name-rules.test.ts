/**
 * The queue name rules (exact texts, tools match them) and the error for a missing queue, checked
 * on every function that takes a queue name, on the test run's queue layer; and the engine's own
 * check of the names it gives pgmq, on every layer the server can give a database.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { createLayerDatabase, pgmqServer } from './support/pgmq-server.ts';

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

/** Every function but validate_queue_name: they all name tables through format_table_name, which checks. */
const CALLS_THAT_NAME_TABLES = [
  ...CALLS_THAT_CREATE,
  ...CALLS_ON_A_QUEUE,
  'pgmq.drop_queue($1)',
  "pgmq.format_table_name($1, 'q')",
];

describe('queue name rules', () => {
  it.each(CALLS_THAT_NAME_TABLES)(
    '%s rejects a name with $, ;, -- or a quote, with the exact error text',
    async (call) => {
      for (const name of BAD_NAMES) {
        await expect(db.query(`select * from ${call}`, [name])).rejects.toMatchObject({ message: INVALID_CHARACTERS });
      }
    },
  );

  it('pgmq.validate_queue_name($1) rejects a name with $, ;, -- or a quote on the fallback; pgmq 1.5.1 only checks the length', async () => {
    for (const name of BAD_NAMES) {
      const check = db.query('select pgmq.validate_queue_name($1)', [name]);
      if (server.implementation === 'fallback')
        await expect(check).rejects.toMatchObject({ message: INVALID_CHARACTERS });
      // The extension's validate_queue_name checks the length only; its format_table_name, which every
      // other function calls first, rejects these names (the test above).
      else await expect(check).resolves.toHaveLength(1);
    }
  });

  it.each([...CALLS_THAT_CREATE, 'pgmq.validate_queue_name($1)'])(
    '%s rejects a name longer than 47 characters, with the exact error text',
    async (call) => {
      await expect(db.query(`select * from ${call}`, ['x'.repeat(48)])).rejects.toMatchObject({ message: TOO_LONG });
    },
  );

  it('counts a name in bytes on the fallback: two 40-character names of é (80 bytes) would share a truncated table; pgmq 1.5.1 counts characters and fails later', async () => {
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
      // pgmq 1.5.1 counts characters, so it lets both through its length check; but PostgreSQL
      // truncates 'q_' + 80 bytes to 63, and the identity sequence's name ('..._msg_id_seq') to the
      // same 63 bytes, which then name the table: creating either fails with 42809 (wrong object
      // type) and leaves nothing. The engine never gives pgmq such names (flow slugs are ASCII; see below).
      for (const name of [first, second]) {
        await expect(db.query('select pgmq.create($1)', [name])).rejects.toMatchObject({ code: '42809' });
      }
      expect(await db.query("select * from pgmq.list_queues() where queue_name like 'é%'")).toEqual([]);
      const [row] = await db.query<{ tables: number }>(
        "select count(*)::int as tables from pg_class where relnamespace = 'pgmq'::regnamespace and relname like 'q_é%'",
      );
      expect(row?.tables).toBe(0);
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

/** Names the engine refuses for a flow (and so never gives pgmq as a queue name). */
const NAMES_THE_ENGINE_REFUSES = [...BAD_NAMES, 'has space', 'x'.repeat(48), 'é'.repeat(40), "x'); drop table x; --"];

describe.each(server.layers)('queue names where the engine creates queues, on the %s', (layer) => {
  const database = async () => (layer === server.implementation ? db : await createLayerDatabase(layer));

  it('pgflow.create_flow refuses every name pgmq must not get (PF001) before pgmq sees it: no queue is created', async () => {
    const target = await database();
    for (const name of NAMES_THE_ENGINE_REFUSES) {
      await expect(target.query('select pgflow.create_flow($1)', [name])).rejects.toMatchObject({ code: 'PF001' });
      await expect(
        target.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', [name, JSON.stringify({ steps: [] })]),
      ).rejects.toMatchObject({ code: 'PF001' });
    }
    const names = NAMES_THE_ENGINE_REFUSES;
    expect(await target.query('select queue_name from pgmq.meta where queue_name = any($1)', [names])).toEqual([]);
    expect(await target.query('select flow_slug from pgflow.flows where flow_slug = any($1)', [names])).toEqual([]);
  });

  it('pgflow.create_flow gives pgmq a valid slug as the queue name', async () => {
    const target = await database();
    await target.query("select pgflow.create_flow('Engine_Named_Queue')");
    expect(await target.query("select queue_name from pgmq.meta where queue_name = 'Engine_Named_Queue'")).toEqual([
      { queue_name: 'Engine_Named_Queue' },
    ]);
  });
});
