/**
 * pgflow.apply_retention: one short batch of the retention policy. Completed runs and failed or
 * cancelled runs have their own limits; archived queue messages older than the longer limit go, on
 * each queue layer; nothing younger is touched; one session at a time (busy for the others); bad
 * arguments change nothing.
 */
import { createLayerDatabase, pgmqServer } from '../queue/support/pgmq-server.ts';
import { useTestDatabase } from '../support/test-database.ts';
import {
  archivedMessages,
  completeTask,
  defineFlow,
  onClient,
  pollOne,
  type Sql,
  startRun,
} from './support/engine-driver.ts';
import { insertArchivedMessages, insertEndedRuns } from './support/old-runs.ts';

const db = useTestDatabase();
const server = await pgmqServer();

interface Batch {
  busy: boolean;
  runs: number;
  messages: number;
  ticks: number;
}

async function applyRetention(sql: Sql, completed: string | null, failed: string | null, batch = 500): Promise<Batch> {
  const [row] = await sql.query<{ result: Batch }>(
    'select pgflow.apply_retention($1::interval, $2::interval, $3) as result',
    [completed, failed, batch],
  );
  return row?.result as Batch;
}

async function runIds(flowSlug: string): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>('select run_id from pgflow.runs where flow_slug = $1', [flowSlug]);
  return rows.map((row) => row.run_id).sort();
}

async function count(table: string, flowSlug: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`select count(*)::int as n from pgflow.${table} where flow_slug = $1`, [
    flowSlug,
  ]);
  return row?.n ?? 0;
}

describe('apply_retention', () => {
  it('deletes completed runs older than their limit and failed or cancelled ones older than theirs, with their rows, and nothing younger', async () => {
    await defineFlow(db, 'ret_mixed', [{ slug: 'only' }]);
    const ended = (status: 'completed' | 'failed' | 'cancelled', endedDaysAgo: number, count = 3) =>
      insertEndedRuns(db, { flowSlug: 'ret_mixed', stepSlug: 'only', status, count, endedDaysAgo });
    await ended('completed', 40);
    const youngCompleted = await ended('completed', 20);
    const failedWithinItsLimit = await ended('failed', 40);
    await ended('failed', 100);
    await ended('cancelled', 100);
    const youngCancelled = await ended('cancelled', 40);
    const running = await startRun(db, 'ret_mixed', { still: 'running' });
    await db.query(`update pgflow.runs set started_at = started_at - interval '200 days' where run_id = $1`, [
      running.run_id,
    ]);

    const batch = await applyRetention(db, '30 days', '90 days');

    expect(batch).toEqual({ busy: false, runs: 9, messages: 0, ticks: 0 });
    expect(await runIds('ret_mixed')).toEqual(
      [...youngCompleted, ...failedWithinItsLimit, ...youngCancelled, running.run_id].sort(),
    );
    expect(await count('step_states', 'ret_mixed')).toBe(10);
    expect(await count('step_tasks', 'ret_mixed')).toBe(9 + 1);
    expect(await applyRetention(db, '30 days', '90 days')).toEqual({ busy: false, runs: 0, messages: 0, ticks: 0 });
  });

  it('keeps the runs of a kind whose limit is null forever', async () => {
    await defineFlow(db, 'ret_forever', [{ slug: 'only' }]);
    await insertEndedRuns(db, {
      flowSlug: 'ret_forever',
      stepSlug: 'only',
      status: 'completed',
      count: 2,
      endedDaysAgo: 400,
    });
    const failed = await insertEndedRuns(db, {
      flowSlug: 'ret_forever',
      stepSlug: 'only',
      status: 'failed',
      count: 2,
      endedDaysAgo: 400,
    });
    // Every flow's completed runs older than a day go (those of the tests above too).
    expect(await applyRetention(db, '1 day', null)).toMatchObject({ busy: false, runs: expect.any(Number) });
    expect(await runIds('ret_forever')).toEqual([...failed].sort());
  });

  it('deletes at most batch_size runs and batch_size archived messages per call, oldest first', async () => {
    await defineFlow(db, 'ret_batches', [{ slug: 'only' }]);
    await insertEndedRuns(db, {
      flowSlug: 'ret_batches',
      stepSlug: 'only',
      status: 'completed',
      count: 25,
      endedDaysAgo: 50,
    });
    const newest = await insertEndedRuns(db, {
      flowSlug: 'ret_batches',
      stepSlug: 'only',
      status: 'completed',
      count: 5,
      endedDaysAgo: 20,
    });
    await insertArchivedMessages(db, { flowSlug: 'ret_batches', count: 12, daysAgo: 50 });
    await insertArchivedMessages(db, { flowSlug: 'ret_batches', count: 3, daysAgo: 1, firstId: 100 });

    expect(await applyRetention(db, '30 days', null, 10)).toEqual({ busy: false, runs: 10, messages: 10, ticks: 0 });
    expect(await applyRetention(db, '30 days', null, 10)).toEqual({ busy: false, runs: 10, messages: 2, ticks: 0 });
    expect(await applyRetention(db, '30 days', null, 10)).toEqual({ busy: false, runs: 5, messages: 0, ticks: 0 });
    expect(await applyRetention(db, '30 days', null, 10)).toEqual({ busy: false, runs: 0, messages: 0, ticks: 0 });
    expect(await runIds('ret_batches')).toEqual([...newest].sort());
    expect(await archivedMessages(db, 'ret_batches')).toHaveLength(3);
  });

  it('prunes schedule ticks recorded before the longer of the two limits, in batches', async () => {
    await defineFlow(db, 'ret_ticks', [{ slug: 'only' }]);
    await db.query(
      "insert into pgflow.schedules (schedule_name, flow_slug, cron) values ('ret_ticks', 'ret_ticks', '* * * * *')",
    );
    await db.query(
      `insert into pgflow.schedule_ticks (schedule_name, tick_at, outcome, created_at)
       select 'ret_ticks', now() - make_interval(days => d), 'skipped_catch_up', now() - make_interval(days => d)
         from generate_series(1, 100) d where d <> 90`,
    );
    // Kept 30 days (completed) and 90 (failed): the 10 ticks older than 90 days go, 10 per batch.
    expect(await applyRetention(db, '30 days', '90 days', 10)).toMatchObject({ ticks: 10 });
    expect(await applyRetention(db, '30 days', '90 days', 10)).toMatchObject({ ticks: 0 });
    const [left] = await db.query<{ n: number; oldest: number }>(
      `select count(*)::int as n, max(extract(day from now() - created_at))::int as oldest
         from pgflow.schedule_ticks where schedule_name = 'ret_ticks'`,
    );
    expect(left).toEqual({ n: 89, oldest: 89 });
  });

  it('prunes archived messages older than the longer of the two limits, on every flow', async () => {
    await defineFlow(db, 'ret_archive_a', [{ slug: 'only' }]);
    await defineFlow(db, 'ret_archive_b', [{ slug: 'only' }]);
    for (const flowSlug of ['ret_archive_a', 'ret_archive_b']) {
      await insertArchivedMessages(db, { flowSlug, count: 2, daysAgo: 40 });
      await insertArchivedMessages(db, { flowSlug, count: 2, daysAgo: 10, firstId: 10 });
    }
    expect(await applyRetention(db, '30 days', '5 days')).toMatchObject({ messages: 4 });
    expect(await archivedMessages(db, 'ret_archive_a')).toHaveLength(2);
    expect(await archivedMessages(db, 'ret_archive_b')).toHaveLength(2);
  });

  it('lets one session at a time apply it: another one gets busy and deletes nothing until the first commits', async () => {
    await defineFlow(db, 'ret_one_at_a_time', [{ slug: 'only' }]);
    await insertEndedRuns(db, {
      flowSlug: 'ret_one_at_a_time',
      stepSlug: 'only',
      status: 'completed',
      count: 6,
      endedDaysAgo: 50,
    });
    const first = await db.connect('retention first');
    const second = await db.connect('retention second');
    await first.query('begin');
    expect(await applyRetention(onClient(first), '30 days', null, 2)).toEqual({
      busy: false,
      runs: 2,
      messages: 0,
      ticks: 0,
    });
    expect(await applyRetention(onClient(second), '30 days', null, 2)).toEqual({
      busy: true,
      runs: 0,
      messages: 0,
      ticks: 0,
    });
    await first.query('commit');
    expect(await applyRetention(onClient(second), '30 days', null, 2)).toEqual({
      busy: false,
      runs: 2,
      messages: 0,
      ticks: 0,
    });
    expect(await runIds('ret_one_at_a_time')).toHaveLength(2);
  });

  it('refuses limits that are both null, zero or negative, and a batch size out of range, changing nothing', async () => {
    await defineFlow(db, 'ret_bad_input', [{ slug: 'only' }]);
    await insertEndedRuns(db, {
      flowSlug: 'ret_bad_input',
      stepSlug: 'only',
      status: 'failed',
      count: 2,
      endedDaysAgo: 50,
    });
    const cases: Array<[string | null, string | null, number | null, string]> = [
      [null, null, 500, 'both null'],
      ['0 days', '1 day', 500, 'Invalid retention interval 00:00:00'],
      ['1 day', '-3 days', 500, 'Invalid retention interval -3 days'],
      ['1 day', '1 day', 0, 'batch_size must be between 1 and 10000, not 0'],
      ['1 day', '1 day', null, 'not null'],
    ];
    for (const [completed, failed, batch, message] of cases) {
      await expect(
        db.query('select pgflow.apply_retention($1::interval, $2::interval, $3)', [completed, failed, batch]),
      ).rejects.toMatchObject({ code: 'PF007', message: expect.stringContaining(message) });
    }
    expect(await runIds('ret_bad_input')).toHaveLength(2);
  });
});

describe.each(server.layers)('archived messages on the %s', (layer) => {
  it("prunes what the engine archived, from the queue layer's own archive table", async () => {
    const layerDb = await createLayerDatabase(layer);
    await defineFlow(layerDb, 'ret_layer', [{ slug: 'only' }]);
    for (const n of [1, 2]) {
      const run = await startRun(layerDb, 'ret_layer', { n });
      await pollOne(layerDb, 'ret_layer', 'only', { runId: run.run_id });
      await completeTask(layerDb, run.run_id, 'only', 0, n);
    }
    expect(await archivedMessages(layerDb, 'ret_layer')).toHaveLength(2);
    await layerDb.query(
      "update pgmq.a_ret_layer set archived_at = archived_at - interval '40 days' where msg_id = (select min(msg_id) from pgmq.a_ret_layer)",
    );
    expect(await applyRetention(layerDb, null, '30 days')).toEqual({ busy: false, runs: 0, messages: 1, ticks: 0 });
    expect(await archivedMessages(layerDb, 'ret_layer')).toHaveLength(1);
  });
});
