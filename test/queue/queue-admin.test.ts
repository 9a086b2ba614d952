import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { createLayerDatabase, pgmqServer } from './support/pgmq-server.ts';
import { newQueue, read, sendAll } from './support/queues.ts';

const server = await pgmqServer();
const db = useTestDatabase();

async function exists(relation: string): Promise<boolean> {
  const [row] = await db.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [relation]);
  return row?.exists ?? false;
}

async function noticesOf(
  client: pg.Client,
  sql: string,
  params: unknown[],
): Promise<{ rows: unknown[]; notices: string[] }> {
  const notices: string[] = [];
  const listener = (notice: { message?: string }) => notices.push(notice.message ?? '');
  client.on('notice', listener);
  try {
    const { rows } = await client.query(sql, params);
    return { rows, notices };
  } finally {
    client.off('notice', listener);
  }
}

describe('pgmq.purge_queue', () => {
  it('deletes every message, returns how many, and leaves the archive alone', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await db.query('select pgmq.archive($1, 1::bigint)', [queue]);
    await read(db, queue, 30, 1);
    expect(await db.query('select purge_queue from pgmq.purge_queue($1)', [queue])).toEqual([{ purge_queue: '3' }]);
    expect(await db.query(`select count(*)::int as n from pgmq.q_${queue}`)).toEqual([{ n: 0 }]);
    expect(await db.query(`select count(*)::int as n from pgmq.a_${queue}`)).toEqual([{ n: 1 }]);
  });

  it('returns 0 for an empty queue', async () => {
    const queue = await newQueue(db);
    expect(await db.query('select pgmq.purge_queue($1) as n', [queue])).toEqual([{ n: '0' }]);
  });
});

describe('pgmq.drop_queue', () => {
  it('drops the queue table, the archive and the pgmq.meta row, and returns true', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    expect(await db.query('select drop_queue from pgmq.drop_queue($1)', [queue])).toEqual([{ drop_queue: true }]);
    expect(await exists(`pgmq.q_${queue}`)).toBe(false);
    expect(await exists(`pgmq.a_${queue}`)).toBe(false);
    expect(await db.query('select * from pgmq.list_queues() where queue_name = $1', [queue])).toEqual([]);
  });

  it('returns false with the notice "pgmq queue `name` does not exist" for a missing queue', async () => {
    const client = await db.connect();
    const { rows, notices } = await noticesOf(client, 'select drop_queue from pgmq.drop_queue($1)', ['never_made']);
    expect(rows).toEqual([{ drop_queue: false }]);
    expect(notices).toEqual(['pgmq queue `never_made` does not exist']);
  });

  it('lets the queue be created again, numbering from 1', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }, { n: 2 }]);
    await db.query('select pgmq.drop_queue($1)', [queue]);
    await db.query('select pgmq.create($1)', [queue]);
    expect(await sendAll(db, queue, [{ n: 1 }])).toEqual([1]);
  });
});

describe('pgmq.list_queues', () => {
  it('lists every queue with its flags and creation time', async () => {
    const logged = await newQueue(db, 'listed');
    await db.query("select pgmq.create_unlogged('listed_unlogged')");
    const rows = await db.query<{
      queue_name: string;
      is_partitioned: boolean;
      is_unlogged: boolean;
      created_at: Date;
    }>("select * from pgmq.list_queues() where queue_name like 'listed%' order by queue_name");
    expect(rows).toEqual([
      { queue_name: logged, is_partitioned: false, is_unlogged: false, created_at: expect.any(Date) },
      { queue_name: 'listed_unlogged', is_partitioned: false, is_unlogged: true, created_at: expect.any(Date) },
    ]);
  });
});

describe('pgmq.detach_archive', () => {
  /** Whether `relation` is a member of the pgmq extension (what detach_archive changes there). */
  async function memberOfExtension(query: typeof db.query, relation: string): Promise<boolean> {
    const [row] = await query<{ member: boolean }>(
      `select exists (select from pg_depend d join pg_extension e on e.oid = d.refobjid
                       where e.extname = 'pgmq' and d.deptype = 'e' and d.classid = 'pg_class'::regclass
                         and d.objid = $1::regclass) as member`,
      [relation],
    );
    return row?.member ?? false;
  }

  it('keeps the archive and its rows; on the extension, the archive leaves the extension', async () => {
    const queue = await newQueue(db);
    await sendAll(db, queue, [{ n: 1 }]);
    await db.query('select pgmq.archive($1, 1::bigint)', [queue]);
    expect(await memberOfExtension(db.query, `pgmq.a_${queue}`)).toBe(server.implementation === 'extension');

    await db.query('select pgmq.detach_archive($1)', [queue]);
    expect(await db.query(`select msg_id from pgmq.a_${queue}`)).toEqual([{ msg_id: '1' }]);
    // pgmq makes queue tables members of the extension, so that DROP EXTENSION drops them; a
    // detached archive survives it. The fallback is no extension: there is nothing to detach from.
    expect(await memberOfExtension(db.query, `pgmq.a_${queue}`)).toBe(false);
  });

  it('is a no-op on the fallback, which only checks that the archive exists', async () => {
    const fallback = server.implementation === 'fallback' ? db : await createLayerDatabase('fallback');
    await fallback.query("select pgmq.create('detached')");
    await fallback.query(`select pgmq.send('detached', '{"n": 1}')`);
    await fallback.query("select pgmq.archive('detached', 1::bigint)");
    const catalogBefore = await fallback.query("select * from pg_class where relname = 'a_detached'");

    await fallback.query("select pgmq.detach_archive('detached')");
    expect(await fallback.query('select msg_id from pgmq.a_detached')).toEqual([{ msg_id: '1' }]);
    expect(await fallback.query("select * from pg_class where relname = 'a_detached'")).toEqual(catalogBefore);
    await expect(fallback.query("select pgmq.detach_archive('never_created')")).rejects.toMatchObject({
      code: '42P01',
    });
  });
});

describe('pgmq.format_table_name and pgmq.validate_queue_name', () => {
  it('format_table_name gives the lower-cased table name with its prefix', async () => {
    expect(
      await db.query("select pgmq.format_table_name('Orders', 'q') as q, pgmq.format_table_name('Orders', 'a') as a"),
    ).toEqual([{ q: 'q_orders', a: 'a_orders' }]);
  });

  it('validate_queue_name accepts a valid name', async () => {
    await expect(db.query("select pgmq.validate_queue_name('fine_name')")).resolves.toHaveLength(1);
  });
});
