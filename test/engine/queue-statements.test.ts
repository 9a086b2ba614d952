/**
 * Static queue statements (pgflow._write_queue_statements): the engine sends, reads and archives a
 * flow's messages, and looks for a visible one, with statements written for that flow's queue table,
 * planned once per session, instead of through pgmq.send_batch, pgmq.read and pgmq.archive (and a
 * dynamic query), which build and plan their statement at every call. A queue without them goes
 * through the queue layer's functions, with the same result.
 */

import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, onClient, registerWorker } from './support/engine-driver.ts';
import { queueStatementsOf } from './support/engine-state.ts';

const db = useTestDatabase();

async function functionText(name: string): Promise<string> {
  const [row] = await db.query<{ src: string }>(
    `select prosrc as src from pg_proc where proname = $1 and pronamespace = 'pgflow'::regnamespace`,
    [name],
  );
  return row?.src ?? '';
}

interface Calls {
  [fn: string]: number;
}

/**
 * One one-step run, started with its task claimed, then completed, in one transaction that counts the
 * calls of the functions it makes (track_functions): which queue functions did the work. On a new
 * connection each time: a backend's pending counts of earlier transactions show in the xact view too.
 */
async function runOnceCountingCalls(flowSlug: string, worker: string): Promise<Calls> {
  const client = await db.connect();
  const sql = onClient(client);
  await sql.query('begin');
  try {
    await sql.query(`set local track_functions = 'all'`);
    // The general start, which sends the task's message and reads it back (a plain flow's run is
    // otherwise started with its task already claimed, without a read: claimed-start.test.ts).
    await sql.query(`set local pgflow.claimed_start = 'off'`);
    const rows = await sql.query<{ kind: string; run_id: string; step_slug: string; task_index: number }>(
      `select kind, run_id, step_slug, task_index
         from pgflow._start_and_claim($1, '{}'::jsonb, null, null, null, 0, null, null, 10, 30, $2::uuid)`,
      [flowSlug, worker],
    );
    const task = rows.find((row) => row.kind === 'task');
    if (!task) throw new Error(`no task of ${flowSlug} was claimed`);
    await sql.query(`select * from pgflow._report_and_claim($1::jsonb, '[]', $2, 10, 30, $3::uuid, '{}', false)`, [
      json([{ run_id: task.run_id, step_slug: task.step_slug, task_index: task.task_index, output: { done: 1 } }]),
      flowSlug,
      worker,
    ]);
    const calls = await sql.query<{ fn: string; calls: string }>(
      `select schemaname || '.' || funcname as fn, calls from pg_stat_xact_user_functions
        where (schemaname = 'pgmq' and funcname in ('read', 'archive', 'send_batch'))
           or (schemaname = 'pgflow' and funcname like '\\_queue\\_%')`,
    );
    const [run] = await sql.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [
      task.run_id,
    ]);
    expect(run?.status).toBe('completed');
    return Object.fromEntries(calls.map((row) => [row.fn, Number(row.calls)]));
  } finally {
    await sql.query('commit');
    await client.end();
  }
}

describe('static queue statements', () => {
  it('are exactly what the functions hold on a database without flows (nothing to rewrite)', async () => {
    const [row] = await db.query<{ changed: boolean }>('select pgflow._write_queue_statements() as changed');
    expect(row?.changed).toBe(false);
  });

  it('are written for a flow by create_flow and taken out by delete_flow_and_data', async () => {
    await defineFlow(db, 'qs_lifecycle', [{ slug: 'only' }]);
    expect(await queueStatementsOf(db, 'qs_lifecycle')).toEqual([true, true, true, true]);
    await db.query(`select pgflow.delete_flow_and_data('qs_lifecycle')`);
    expect(await queueStatementsOf(db, 'qs_lifecycle')).toEqual([false, false, false, false]);
  });

  it('do the send, read and archive of a one-step run without calling the queue layer', async () => {
    await defineFlow(db, 'qs_static', [{ slug: 'only' }]);
    const calls = await runOnceCountingCalls('qs_static', await registerWorker(db, 'qs_static'));
    expect(calls).toMatchObject({ 'pgflow._queue_send': 1, 'pgflow._queue_read': 1, 'pgflow._queue_archive': 1 });
    expect(calls['pgmq.send_batch'] ?? 0).toBe(0);
    expect(calls['pgmq.read'] ?? 0).toBe(0);
    expect(calls['pgmq.archive'] ?? 0).toBe(0);
  });

  it('are skipped by a create_flow that would wait for them; the flow goes through the queue layer until the next write', async () => {
    const holder = await db.connect();
    await holder.query('begin');
    await holder.query(`select pg_advisory_xact_lock(hashtext('pgflow:queue-statements'))`);
    try {
      // Would hang here if create_flow waited for the lock.
      await defineFlow(db, 'qs_generic', [{ slug: 'only' }]);
    } finally {
      await holder.query('commit');
    }
    expect(await queueStatementsOf(db, 'qs_generic')).toEqual([false, false, false, false]);
    const worker = await registerWorker(db, 'qs_generic');
    const calls = await runOnceCountingCalls('qs_generic', worker);
    expect(calls).toMatchObject({ 'pgmq.send_batch': 1, 'pgmq.read': 1, 'pgmq.archive': 1 });

    const [row] = await db.query<{ changed: boolean }>('select pgflow._write_queue_statements() as changed');
    expect(row?.changed).toBe(true);
    expect(await queueStatementsOf(db, 'qs_generic')).toEqual([true, true, true, true]);
    const again = await runOnceCountingCalls('qs_generic', worker);
    expect(again['pgmq.read'] ?? 0).toBe(0);
  });

  it('leave the same rows as the queue layer: visibility, read count, archive', async () => {
    await db.query(`select pgmq.create('qs_plain')`);
    await defineFlow(db, 'qs_twin', [{ slug: 'only' }]);
    const hasVisible = async (queue: string): Promise<boolean | undefined> =>
      (await db.query<{ v: boolean }>('select v from pgflow._queue_has_visible($1) v', [queue]))[0]?.v;
    const snapshot = async (queue: string): Promise<unknown> => {
      const visible = [await hasVisible(queue)];
      const sent = await db.query<{ id: string }>(
        `select id from pgflow._queue_send($1, array['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[], 0) as id`,
        [queue],
      );
      const delayed = await db.query<{ id: string }>(
        `select id from pgflow._queue_send($1, array['{"n": 4}']::jsonb[], 3600) as id`,
        [queue],
      );
      visible.push(await hasVisible(queue));
      const read = await db.query<{ id: string }>('select id from pgflow._queue_read($1, 30, 2) as id', [queue]);
      const archived = await db.query<{ id: string }>(
        'select id from pgflow._queue_archive($1, array[$2, $3]::bigint[]) as id order by id',
        [queue, read[0]?.id, sent[2]?.id],
      );
      const queued = await db.query(
        `select message, read_ct, vt > clock_timestamp() + interval '25 seconds' as hidden,
                vt > clock_timestamp() + interval '3500 seconds' as delayed
           from pgmq.q_${queue} order by msg_id`,
      );
      const kept = await db.query(
        `select message, read_ct, archived_at is not null as stamped from pgmq.a_${queue} order by msg_id`,
      );
      const ids = [...sent, ...delayed].map((row) => Number(row.id));
      visible.push(await hasVisible(queue));
      return {
        visible,
        ascending: ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)),
        read: read.map((row) => ids.indexOf(Number(row.id))),
        archived: archived.map((row) => ids.indexOf(Number(row.id))),
        queued,
        kept,
      };
    };
    expect(await queueStatementsOf(db, 'qs_plain')).toEqual([false, false, false, false]);
    const generic = await snapshot('qs_plain');
    const written = await snapshot('qs_twin');
    expect(written).toEqual(generic);
    expect(generic).toMatchObject({
      ascending: true,
      read: [0, 1],
      archived: [0, 2],
      // None yet; three of the four sent; none left (one read, one delayed, two archived).
      visible: [false, true, false],
    });
  });

  it('are left as they are, with a notice, when the role writing them does not own the functions', async () => {
    await defineFlow(db, 'qs_owner', [{ slug: 'only' }]);
    const before = await functionText('_queue_read');
    const role = `qs_reader_${process.pid}`;
    const client = await db.connect();
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(notice.message ?? ''));
    await client.query(`create role ${role}`);
    try {
      await client.query(`grant usage on schema pgflow, pgmq to ${role}`);
      await client.query(`grant select on pgflow.flows to ${role}`);
      await client.query(`grant execute on function pgflow._write_queue_statements(boolean) to ${role}`);
      await client.query(`delete from pgflow.steps where flow_slug = 'qs_owner'`);
      await client.query(`delete from pgflow.flows where flow_slug = 'qs_owner'`);
      await client.query('begin');
      await client.query(`set local role ${role}`);
      const { rows } = await client.query<{ changed: boolean }>('select pgflow._write_queue_statements() as changed');
      await client.query('rollback');
      expect(rows[0]?.changed).toBe(false);
      expect(notices.join('\n')).toMatch(
        /_queue_read\(\) keeps the queue layer's generic statements: permission denied/,
      );
      expect(await functionText('_queue_read')).toBe(before);
    } finally {
      await client.query('rollback').catch(() => undefined);
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role ${role}`);
    }
  });
});
