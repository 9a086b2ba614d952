/**
 * Switching a migrated database between the fallback and the pgmq extension (switchQueueLayer, the
 * documented path): queues keep their messages (visible or not, with read counts and headers),
 * archives, ids, unlogged tables and creation times; runs in flight finish under a worker started
 * after the switch; and the switch refuses, changing nothing, while a worker is alive, where the
 * server does not offer pgmq, for a partitioned queue, and when schema pgmq holds a table no queue
 * owns. The tests that need the extension run where the server can give a database pgmq (see
 * support/pgmq-server.ts).
 */
import { Flow, Step, type StepInput, switchQueueLayer } from 'nestjs-pgflow';
import { DataSource } from 'typeorm';
import type { PgmqImplementation } from '../../migrations/queue-layer/detect.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { createLayerDatabase, type LayerDatabase, pgmqServer } from './support/pgmq-server.ts';

@Flow({ slug: 'switch_flow', baseDelay: 0 })
class SwitchFlow {
  @Step()
  double(input: { n: number }) {
    return input.n * 2;
  }

  @Step({ dependsOn: ['double'] })
  describe(deps: StepInput<SwitchFlow, 'double'>) {
    return `doubled to ${deps.double}`;
  }
}

const server = await pgmqServer();
const apps = useApps();

/** switchQueueLayer on `database`, through a DataSource of its own (as a deploy script would). */
async function switchTo(database: LayerDatabase, target: PgmqImplementation) {
  const dataSource = new DataSource({ type: 'postgres', url: database.url });
  await dataSource.initialize();
  try {
    return await switchQueueLayer(dataSource, target);
  } finally {
    await dataSource.destroy();
  }
}

/** Every queue with its messages and archive, ids and all, and the queue layer: what a switch must keep. */
async function queueContents(database: LayerDatabase) {
  const queues = await database.query<{ queue_name: string; is_unlogged: boolean; created_at: Date }>(
    'select queue_name, is_unlogged, created_at from pgmq.list_queues() order by queue_name',
  );
  const contents = [];
  for (const queue of queues) {
    const [{ q, a }] = (await database.query(
      "select pgmq.format_table_name($1, 'q') as q, pgmq.format_table_name($1, 'a') as a",
      [queue.queue_name],
    )) as [{ q: string; a: string }];
    contents.push({
      ...queue,
      messages: await database.query(
        `select msg_id, read_ct, enqueued_at, vt, message, headers from pgmq."${q}" order by msg_id`,
      ),
      archive: await database.query(
        `select msg_id, read_ct, enqueued_at, archived_at, vt, message, headers from pgmq."${a}" order by msg_id`,
      ),
    });
  }
  return contents;
}

async function layerOf(database: LayerDatabase): Promise<string> {
  const [row] = await database.query<{ layer: string }>(
    `select case when exists (select from pg_extension where extname = 'pgmq') then 'extension'
                 when obj_description('pgmq'::regnamespace, 'pg_namespace') like 'pgflow fallback%' then 'fallback'
            end as layer`,
  );
  return row?.layer ?? 'none';
}

/** Queues in every state a switch must keep: read (invisible), delayed, with headers, archived, unlogged. */
async function fillQueues(database: LayerDatabase): Promise<void> {
  await database.query("select pgmq.create('orders')");
  await database.query("select pgmq.create_unlogged('fast')");
  await database.query(`select pgmq.send('orders', '{"n": 1}')`);
  await database.query(`select pgmq.send('orders', '{"n": 2}', '{"trace": "t2"}'::jsonb)`);
  await database.query(`select pgmq.send('orders', '{"n": 3}', 3600)`);
  await database.query(`select pgmq.send_batch('orders', array['{"n": 4}', '{"n": 5}']::jsonb[])`);
  await database.query("select * from pgmq.read('orders', 600, 1)");
  await database.query('select pgmq.archive($1, array[4, 5]::bigint[])', ['orders']);
  await database.query(`select pgmq.send('fast', '{"fast": true}')`);
  await database.query("update pgmq.meta set created_at = '2020-01-02T03:04:05Z' where queue_name = 'orders'");
}

describe('switchQueueLayer', () => {
  it('does nothing when the database already has the layer asked for', async () => {
    const database = await createLayerDatabase('fallback');
    await fillQueues(database);
    const before = await queueContents(database);

    expect(await switchTo(database, 'fallback')).toEqual({
      from: 'fallback',
      to: 'fallback',
      switched: false,
      queues: 0,
      messages: 0,
      archived: 0,
    });
    expect(await queueContents(database)).toEqual(before);
  });

  it('refuses while a worker is alive, naming it, and changes nothing', async () => {
    const database = await createLayerDatabase('fallback');
    await fillQueues(database);
    await apps.start({ url: database.url, providers: [SwitchFlow] });
    const before = await queueContents(database);

    await expect(switchTo(database, 'extension')).rejects.toThrow(
      /1 worker\(s\) are running \(a heartbeat in the last 60 s\): [0-9a-f-]+ on switch_flow\. Stop every process/,
    );
    expect(await queueContents(database)).toEqual(before);
    expect(await layerOf(database)).toBe('fallback');
  });

  it('refuses a partitioned queue (the fallback has none) and changes nothing', async () => {
    const database = await createLayerDatabase('fallback');
    await fillQueues(database);
    // A database moved from an extension with pg_partman would have such a row.
    await database.query("update pgmq.meta set is_partitioned = true where queue_name = 'fast'");
    const before = await queueContents(database);

    await expect(switchTo(database, 'extension')).rejects.toThrow(
      'Queue(s) fast are partitioned, which the fallback does not support',
    );
    expect(await queueContents(database)).toEqual(before);
  });

  if (server.offerStates.includes(false)) {
    it('refuses to switch to the extension where the server does not offer pgmq, and changes nothing', async () => {
      const database = await createLayerDatabase('fallback', { pgmqOffered: false });
      await fillQueues(database);
      const before = await queueContents(database);

      await expect(switchTo(database, 'extension')).rejects.toThrow(
        'PGFLOW_PGMQ=extension requires the pgmq extension (1.5 or newer), but this PostgreSQL server does not offer pgmq',
      );
      expect(await queueContents(database)).toEqual(before);
    });
  }
});

if (server.layers.includes('extension')) {
  describe('switchQueueLayer between the fallback and the extension', () => {
    it('moves every queue with its messages, archive, ids and creation time to the extension, and back', async () => {
      const database = await createLayerDatabase('fallback', { pgmqOffered: true });
      await fillQueues(database);
      const before = await queueContents(database);

      expect(await switchTo(database, 'extension')).toEqual({
        from: 'fallback',
        to: 'extension',
        switched: true,
        queues: 2,
        messages: 4,
        archived: 2,
      });
      expect(await layerOf(database)).toBe('extension');
      expect(await queueContents(database)).toEqual(before);
      // New ids follow the old ones, archived ones included; the pin migration's setting came along.
      expect(await database.query(`select pgmq.send('orders', '{"n": 6}') as id`)).toEqual([{ id: '6' }]);
      const [unpinned] = await database.query<{ n: number }>(
        `select count(*)::int as n from pg_proc where pronamespace = 'pgmq'::regnamespace and proconfig is null`,
      );
      expect(unpinned?.n).toBe(0);

      const withSix = await queueContents(database);
      expect(await switchTo(database, 'fallback')).toMatchObject({ from: 'extension', to: 'fallback', messages: 5 });
      expect(await layerOf(database)).toBe('fallback');
      expect(await queueContents(database)).toEqual(withSix);
      expect(await database.query(`select pgmq.send('orders', '{"n": 7}') as id`)).toEqual([{ id: '7' }]);
    });

    it('runs started before the switch finish under a worker started after it', async () => {
      const database = await createLayerDatabase('fallback', { pgmqOffered: true });
      // A process that starts runs but executes nothing: their first tasks wait in the queue.
      const api = await apps.start({
        url: database.url,
        providers: [SwitchFlow],
        pgflow: { worker: { enabled: false } },
      });
      const runs = await api.client.startMany(SwitchFlow, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      await api.close();

      expect(await switchTo(database, 'extension')).toMatchObject({ switched: true, queues: 1, messages: 3 });

      const worker = await apps.start({ url: database.url, providers: [SwitchFlow] });
      const outputs = await Promise.all(
        runs.map(async (run) => (await worker.client.wait(run.runId, { timeoutMs: 10_000 })).output),
      );
      expect(outputs).toEqual([
        { describe: 'doubled to 2' },
        { describe: 'doubled to 4' },
        { describe: 'doubled to 6' },
      ]);
    });

    it('refuses when schema pgmq holds a table no queue owns, and changes nothing', async () => {
      const database = await createLayerDatabase('extension');
      await fillQueues(database);
      await database.query('create table pgmq.a_kept (msg_id bigint)');
      const before = await queueContents(database);

      await expect(switchTo(database, 'fallback')).rejects.toThrow(
        'Schema pgmq holds pgmq.a_kept, which no queue of pgmq.meta owns',
      );
      expect(await queueContents(database)).toEqual(before);
      expect(await layerOf(database)).toBe('extension');
    });
  });
}
