/**
 * pgflow._sleep_tasks (durable sleep, @Step({ delayUntil })): a claimed task whose wake time is
 * ahead goes back to queued without counting the attempt, its message invisible until then, with a
 * task:sleeping event; the first wake time is kept (a later call with another time changes nothing);
 * a wake time that has come leaves the task started to run now; another worker's task is untouched.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, registerWorker, startRun } from './support/engine-driver.ts';
import { listenToRun } from './support/engine-events.ts';

const db = useTestDatabase();

let flows = 0;
async function claimedTask() {
  const slug = `sleep_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }]);
  const worker = await registerWorker(db, slug, randomUUID());
  const run = await startRun(db, slug, { n: 1 });
  const [task] = await db.query<{ msg_id: string }>(
    `select msg_id::text from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, 10, 30, $2::uuid, '{}'::uuid[])`,
    [slug, worker],
  );
  if (task?.msg_id == null) throw new Error('nothing claimed');
  return { slug, worker, runId: run.run_id, msgId: task.msg_id };
}

function sleepTasks(slug: string, worker: string, tasks: { msg_id: string; until: Date }[]) {
  return db.query<{ msg_id: string; sleep_until: Date; sleeping: boolean }>(
    'select msg_id::text, sleep_until, sleeping from pgflow._sleep_tasks($1, $2::uuid, $3::jsonb)',
    [slug, worker, JSON.stringify(tasks)],
  );
}

async function taskRow(runId: string) {
  const [row] = await db.query<{ status: string; attempts_count: number; sleep_until: Date | null }>(
    'select status, attempts_count, sleep_until from pgflow.step_tasks where run_id = $1',
    [runId],
  );
  return row;
}

async function messageVisibleAt(slug: string, msgId: string): Promise<Date> {
  const [row] = await db.query<{ vt: Date }>(`select vt from pgmq.q_${slug} where msg_id = $1`, [msgId]);
  return row?.vt as Date;
}

it('a wake time ahead: the task goes back to queued, attempt not counted, invisible until then, with an event', async () => {
  const { slug, worker, runId, msgId } = await claimedTask();
  const listener = await listenToRun(db, runId);
  const until = new Date(Date.now() + 60_000);

  const [row] = await sleepTasks(slug, worker, [{ msg_id: msgId, until }]);
  expect(row).toEqual({ msg_id: msgId, sleep_until: until, sleeping: true });
  expect(await taskRow(runId)).toMatchObject({ status: 'queued', attempts_count: 0, sleep_until: until });
  expect(await messageVisibleAt(slug, msgId)).toEqual(until);
  // Not claimable before its time.
  const [claim] = await db.query<{ run_id: string | null }>(
    `select run_id from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, 10, 30, $2::uuid, '{}'::uuid[])`,
    [slug, worker],
  );
  expect(claim?.run_id).toBeNull();

  const [event] = await listener.waitFor((n) => n.payload.includes('task:sleeping'));
  expect(JSON.parse(event?.payload as string)).toMatchObject({
    event_type: 'task:sleeping',
    step_slug: 'only',
    task_index: 0,
    status: 'queued',
    sleep_until: expect.any(String),
  });
  await listener.close();
});

it('the first wake time is kept: a claim after it runs the task even if delayUntil now says later', async () => {
  const { slug, worker, runId, msgId } = await claimedTask();
  const first = new Date(Date.now() + 60_000);
  await sleepTasks(slug, worker, [{ msg_id: msgId, until: first }]);
  // The wake time comes (made visible now and moved into the past, as if a minute went by).
  await db.query(
    `update pgflow.step_tasks set sleep_until = now() - interval '1 second', queued_at = now() - interval '2 minutes'
      where run_id = $1`,
    [runId],
  );
  await db.query(`update pgmq.q_${slug} set vt = now() where msg_id = $1`, [msgId]);
  const [claimed] = await db.query<{ msg_id: string; attempt: number }>(
    `select msg_id::text, attempt from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, 10, 30, $2::uuid, '{}'::uuid[])`,
    [slug, worker],
  );
  expect(claimed).toMatchObject({ msg_id: msgId, attempt: 1 });

  const later = new Date(Date.now() + 3_600_000);
  const [row] = await sleepTasks(slug, worker, [{ msg_id: msgId, until: later }]);
  expect(row?.sleeping).toBe(false);
  expect(await taskRow(runId)).toMatchObject({ status: 'started', attempts_count: 1 });
});

it('a wake time in the past runs now: the task stays started', async () => {
  const { slug, worker, runId, msgId } = await claimedTask();
  const [row] = await sleepTasks(slug, worker, [{ msg_id: msgId, until: new Date(Date.now() - 5_000) }]);
  expect(row).toMatchObject({ msg_id: msgId, sleeping: false });
  expect(await taskRow(runId)).toMatchObject({ status: 'started', attempts_count: 1 });
});

it("another worker's task, or one no longer started, is left alone and not returned", async () => {
  const { slug, runId, msgId } = await claimedTask();
  const other = await registerWorker(db, slug, randomUUID());
  expect(await sleepTasks(slug, other, [{ msg_id: msgId, until: new Date(Date.now() + 60_000) }])).toEqual([]);
  expect(await taskRow(runId)).toMatchObject({ status: 'started', sleep_until: null });
});
