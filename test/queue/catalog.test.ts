/**
 * The shape of the queue layer as clients see it: types (column order), tables and indexes, and
 * every function's name, arguments, defaults and result, on the layer of the test run; and what
 * only the fallback promises, on a database with the fallback (the test run's, or one of its own).
 */
import { useTestDatabase } from '../support/test-database.ts';
import { createLayerDatabase, pgmqServer } from './support/pgmq-server.ts';
import { newQueue } from './support/queues.ts';

const server = await pgmqServer();
const db = useTestDatabase();

type Query = typeof db.query;

/** The test run's database when it has the fallback, else a database of its own with the fallback. */
async function fallbackQuery(): Promise<Query> {
  return server.implementation === 'fallback' ? db.query : (await createLayerDatabase('fallback')).query;
}

async function columns(relation: string): Promise<string[]> {
  const rows = await db.query<{ column: string }>(
    `select attname || ' ' || format_type(atttypid, atttypmod) as column
       from pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped
      order by attnum`,
    [relation],
  );
  return rows.map((row) => row.column);
}

/** [name, arguments as pg_get_function_arguments shows them, result]. */
const SPEC_FUNCTIONS: ReadonlyArray<readonly [string, string, string]> = [
  ['archive', 'queue_name text, msg_id bigint', 'boolean'],
  ['archive', 'queue_name text, msg_ids bigint[]', 'SETOF bigint'],
  ['create', 'queue_name text', 'void'],
  [
    'create_partitioned',
    "queue_name text, partition_interval text DEFAULT '10000'::text, retention_interval text DEFAULT '100000'::text",
    'void',
  ],
  ['create_unlogged', 'queue_name text', 'void'],
  ['delete', 'queue_name text, msg_id bigint', 'boolean'],
  ['delete', 'queue_name text, msg_ids bigint[]', 'SETOF bigint'],
  ['detach_archive', 'queue_name text', 'void'],
  ['drop_queue', 'queue_name text', 'boolean'],
  ['drop_queue', 'queue_name text, partitioned boolean', 'boolean'],
  ['format_table_name', 'queue_name text, prefix text', 'text'],
  ['list_queues', '', 'SETOF pgmq.queue_record'],
  ['metrics', 'queue_name text', 'pgmq.metrics_result'],
  ['metrics_all', '', 'SETOF pgmq.metrics_result'],
  ['pop', 'queue_name text', 'SETOF pgmq.message_record'],
  ['purge_queue', 'queue_name text', 'bigint'],
  [
    'read',
    "queue_name text, vt integer, qty integer, conditional jsonb DEFAULT '{}'::jsonb",
    'SETOF pgmq.message_record',
  ],
  [
    'read_with_poll',
    'queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, ' +
      "poll_interval_ms integer DEFAULT 100, conditional jsonb DEFAULT '{}'::jsonb",
    'SETOF pgmq.message_record',
  ],
  ['send', 'queue_name text, msg jsonb', 'SETOF bigint'],
  ['send', 'queue_name text, msg jsonb, delay integer', 'SETOF bigint'],
  ['send', 'queue_name text, msg jsonb, delay timestamp with time zone', 'SETOF bigint'],
  ['send', 'queue_name text, msg jsonb, headers jsonb', 'SETOF bigint'],
  ['send', 'queue_name text, msg jsonb, headers jsonb, delay integer', 'SETOF bigint'],
  ['send', 'queue_name text, msg jsonb, headers jsonb, delay timestamp with time zone', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[]', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[], delay integer', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[], delay timestamp with time zone', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[], headers jsonb[]', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[], headers jsonb[], delay integer', 'SETOF bigint'],
  ['send_batch', 'queue_name text, msgs jsonb[], headers jsonb[], delay timestamp with time zone', 'SETOF bigint'],
  ['set_vt', 'queue_name text, msg_id bigint, vt integer', 'SETOF pgmq.message_record'],
  ['validate_queue_name', 'queue_name text', 'void'],
];

async function pgmqFunctions(
  query: Query = db.query,
): Promise<Array<{ name: string; args: string; result: string; config: string[] | null }>> {
  return query(
    `select proname as name, pg_get_function_arguments(oid) as args, pg_get_function_result(oid) as result,
            proconfig as config
       from pg_proc
      where pronamespace = 'pgmq'::regnamespace
      order by 1, 2`,
  );
}

describe('the pgmq catalog', () => {
  it('message_record has msg_id, read_ct, enqueued_at, vt, message, headers in that order', async () => {
    expect(await columns('pgmq.message_record')).toEqual([
      'msg_id bigint',
      'read_ct integer',
      'enqueued_at timestamp with time zone',
      'vt timestamp with time zone',
      'message jsonb',
      'headers jsonb',
    ]);
  });

  it('queue_record has queue_name, is_partitioned, is_unlogged, created_at in that order', async () => {
    expect(await columns('pgmq.queue_record')).toEqual([
      'queue_name character varying',
      'is_partitioned boolean',
      'is_unlogged boolean',
      'created_at timestamp with time zone',
    ]);
  });

  it('metrics_result has the seven metrics columns in order', async () => {
    expect(await columns('pgmq.metrics_result')).toEqual([
      'queue_name text',
      'queue_length bigint',
      'newest_msg_age_sec integer',
      'oldest_msg_age_sec integer',
      'total_messages bigint',
      'scrape_time timestamp with time zone',
      'queue_visible_length bigint',
    ]);
  });

  it('pgmq.meta has queue_name (unique), is_partitioned, is_unlogged and created_at (default now())', async () => {
    expect(await columns('pgmq.meta')).toEqual([
      'queue_name character varying',
      'is_partitioned boolean',
      'is_unlogged boolean',
      'created_at timestamp with time zone',
    ]);
    const [meta] = await db.query<{ unique_name: boolean; not_null: number; created_default: string }>(
      `select exists (select from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                       where i.indrelid = 'pgmq.meta'::regclass and i.indisunique and a.attname = 'queue_name'
                         and i.indnatts = 1) as unique_name,
              (select count(*)::int from pg_attribute where attrelid = 'pgmq.meta'::regclass and attnum > 0
                  and attnotnull) as not_null,
              (select pg_get_expr(adbin, adrelid) from pg_attrdef d join pg_attribute a
                   on a.attrelid = d.adrelid and a.attnum = d.adnum
                where d.adrelid = 'pgmq.meta'::regclass and a.attname = 'created_at') as created_default`,
    );
    expect(meta).toEqual({ unique_name: true, not_null: 4, created_default: 'now()' });
  });

  it('a queue table has msg_id as an identity primary key, the message columns and an index on vt', async () => {
    const queue = await newQueue(db);
    expect(await columns(`pgmq.q_${queue}`)).toEqual([
      'msg_id bigint',
      'read_ct integer',
      'enqueued_at timestamp with time zone',
      'vt timestamp with time zone',
      'message jsonb',
      'headers jsonb',
    ]);
    const [facts] = await db.query<{ identity: string; primary_key: string[]; vt_indexed: boolean }>(
      `select (select attidentity from pg_attribute where attrelid = $1::regclass and attname = 'msg_id') as identity,
              (select array_agg(a.attname::text) from pg_index i join pg_attribute a
                   on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indrelid = $1::regclass and i.indisprimary) as primary_key,
              exists (select from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                       where i.indrelid = $1::regclass and a.attname = 'vt') as vt_indexed`,
      [`pgmq.q_${queue}`],
    );
    expect(facts).toEqual({ identity: 'a', primary_key: ['msg_id'], vt_indexed: true });
  });

  it('an archive table has the queue columns plus archived_at, a msg_id primary key and an index on archived_at', async () => {
    const queue = await newQueue(db);
    expect((await columns(`pgmq.a_${queue}`)).sort()).toEqual(
      [
        'msg_id bigint',
        'read_ct integer',
        'enqueued_at timestamp with time zone',
        'archived_at timestamp with time zone',
        'vt timestamp with time zone',
        'message jsonb',
        'headers jsonb',
      ].sort(),
    );
    const [facts] = await db.query<{ primary_key: string[]; archived_at_indexed: boolean }>(
      `select (select array_agg(a.attname::text) from pg_index i join pg_attribute a
                   on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indrelid = $1::regclass and i.indisprimary) as primary_key,
              exists (select from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                       where i.indrelid = $1::regclass and a.attname = 'archived_at') as archived_at_indexed`,
      [`pgmq.a_${queue}`],
    );
    expect(facts).toEqual({ primary_key: ['msg_id'], archived_at_indexed: true });
  });

  it('every function of the spec exists with its argument names, defaults and result type', async () => {
    const found = (await pgmqFunctions()).map((f) => [f.name, f.args, f.result]);
    for (const expected of SPEC_FUNCTIONS) expect(found).toContainEqual([...expected]);
  });

  it('the fallback has exactly the functions of the spec', async () => {
    const found = (await pgmqFunctions(await fallbackQuery())).map((f) => [f.name, f.args, f.result]);
    for (const expected of SPEC_FUNCTIONS) expect(found).toContainEqual([...expected]);
    expect(found).toHaveLength(SPEC_FUNCTIONS.length);
  });

  it("every fallback function runs with search_path set to ''", async () => {
    const functions = await pgmqFunctions(await fallbackQuery());
    expect(functions.length).toBe(SPEC_FUNCTIONS.length);
    for (const f of functions)
      expect({ name: f.name, config: f.config }).toEqual({ name: f.name, config: ['search_path=""'] });
  });
});
