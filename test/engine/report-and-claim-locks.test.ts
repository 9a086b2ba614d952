/**
 * Lock order of the worker's round trip (pgflow._report_and_claim): it reports first and claims
 * after, so it never holds a queue message while it waits for a run. A claim reads with FOR UPDATE
 * SKIP LOCKED, and in READ COMMITTED a read can keep a lock on a message that another worker
 * claimed a moment before (the row is locked, re-checked, found invisible, and stays locked).
 * Reporting locks runs and then archives the reporter's messages; a claim that went first would
 * wait for a run with such a lock held, and two workers deadlocked (seen in the engine benchmark
 * with two connections draining one map).
 */
import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { defineFlow, onClient, pollTasks, registerWorker, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

const FLOW = 'lock_order';
const ITEMS = 30;
const REPORTED = 20;

interface Claimed {
  run_id: string | null;
  task_index: number | null;
}

async function lockableMessages(observer: pg.Client): Promise<{ visible: number; lockable: number }> {
  await observer.query('begin');
  try {
    const visible = await observer.query(`select count(*)::int as n from pgmq.q_${FLOW} where vt <= clock_timestamp()`);
    const lockable = await observer.query(
      `select count(*)::int as n from (select msg_id from pgmq.q_${FLOW}
        where vt <= clock_timestamp() for update skip locked) m`,
    );
    return { visible: visible.rows[0].n, lockable: lockable.rows[0].n };
  } finally {
    await observer.query('rollback');
  }
}

describe('pgflow._report_and_claim lock order', () => {
  it('holds no queue message while it waits for a run it reports on, and claims once the run is free', async () => {
    await defineFlow(db, FLOW, [{ slug: 'each', type: 'map' }]);
    const workerId = await registerWorker(db, FLOW);
    const run = await startRun(
      db,
      FLOW,
      Array.from({ length: ITEMS }, (_, i) => i),
    );
    const started = await pollTasks(db, FLOW, { qty: REPORTED, workerId });
    expect(started).toHaveLength(REPORTED);

    const blocker = await db.connect('lock order: run holder');
    const reporter = await db.connect('lock order: reporter');
    const observer = await db.connect('lock order: observer');
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from pgflow.runs where run_id = $1 for update', [run.run_id]);

      const reporterPid = (await reporter.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      const completions = started.map((task) => ({
        run_id: task.run_id,
        step_slug: task.step_slug,
        task_index: task.task_index,
        output: task.input,
      }));
      const roundTrip = onClient(reporter).query<Claimed>(
        `select run_id, task_index from pgflow._report_and_claim($1::jsonb, '[]'::jsonb, $2, $3, 30, $4::uuid)`,
        [JSON.stringify(completions), FLOW, 5, workerId],
      );

      await waitFor(
        async () =>
          (await observer.query(`select wait_event_type from pg_stat_activity where pid = $1`, [reporterPid])).rows[0]
            ?.wait_event_type === 'Lock',
        { description: 'the reporter waits for the run lock' },
      );
      // Ten messages are visible; while the reporter waits, none of them is locked by it.
      expect(await lockableMessages(observer)).toEqual({ visible: ITEMS - REPORTED, lockable: ITEMS - REPORTED });

      await blocker.query('rollback');
      const claimed = (await roundTrip).filter((row) => row.run_id !== null);
      expect(claimed).toHaveLength(5);
      expect(
        (
          await db.query<{ n: number }>(
            `select count(*)::int as n from pgflow.step_tasks where run_id = $1 and status = 'completed'`,
            [run.run_id],
          )
        )[0]?.n,
      ).toBe(REPORTED);
    } finally {
      await blocker.query('rollback').catch(() => {});
      await Promise.all([blocker.end(), reporter.end(), observer.end()]);
    }
  });
});
