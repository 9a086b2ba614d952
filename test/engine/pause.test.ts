/**
 * pgflow.pause_flow / resume_flow: while a flow is paused no task of it is claimed, by the library's
 * claim (_report_and_claim) or by pgflow's start_tasks; runs still start and queue up; resuming lets
 * the queued tasks run and wakes the flow's workers.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  pollTasks,
  queueMessages,
  registerWorker,
  snapshotTables,
  startRun,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

let flows = 0;
async function flow() {
  const slug = `pause_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }]);
  return slug;
}

async function claim(slug: string, workerId: string) {
  return db.query<{ run_id: string | null; next_visible_at: Date | null }>(
    `select run_id, next_visible_at
       from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, 10, 30, $2::uuid, '{}'::uuid[])`,
    [slug, workerId],
  );
}

const pause = (slug: string) => db.query<{ r: Record<string, unknown> }>('select pgflow.pause_flow($1) as r', [slug]);
const resume = (slug: string) => db.query<{ r: Record<string, unknown> }>('select pgflow.resume_flow($1) as r', [slug]);

it('no task of a paused flow is claimed; started runs queue up; resuming runs them', async () => {
  const slug = await flow();
  const worker = await registerWorker(db, slug, randomUUID());
  const [paused] = await pause(slug);
  expect(paused?.r).toMatchObject({ flow_slug: slug, paused: true, changed: true });
  const runs = [await startRun(db, slug, 1), await startRun(db, slug, 2)];
  // Nothing claimed, and nothing to wait for: the worker polls at its slowest until resumed.
  expect(await claim(slug, worker)).toEqual([{ run_id: null, next_visible_at: null }]);
  // pgflow's own way (read, then start_tasks) starts nothing either; vt 0 leaves the messages visible.
  expect(await pollTasks(db, slug, { vt: 0 })).toEqual([]);
  expect(await queueMessages(db, slug)).toHaveLength(2);

  const [resumed] = await resume(slug);
  expect(resumed?.r).toMatchObject({ flow_slug: slug, paused: false, paused_at: null, changed: true });
  const claimed = await claim(slug, worker);
  expect(claimed.map((row) => row.run_id).sort()).toEqual(runs.map((run) => run.run_id).sort());
  for (const run of runs) await completeTask(db, run.run_id, 'only', 0, 'ok');
});

it('pausing a paused flow (or resuming a running one) changes nothing and says so', async () => {
  const slug = await flow();
  await pause(slug);
  const before = await snapshotTables(db);
  expect((await pause(slug))[0]?.r).toMatchObject({ paused: true, changed: false });
  expect(await snapshotTables(db)).toEqual(before);
  await resume(slug);
  expect((await resume(slug))[0]?.r).toMatchObject({ paused: false, changed: false });
});

it('emits flow:paused and flow:resumed on the flow channel, and wakes the workers on resume', async () => {
  const slug = await flow();
  const client = await db.connect();
  const received: string[] = [];
  client.on('notification', (n) =>
    received.push(n.channel === 'pgflow:work' ? `work:${n.payload}` : JSON.parse(n.payload ?? '{}').event_type),
  );
  await client.query(`listen "pgflow:flow:${slug}"`);
  await client.query('listen "pgflow:work"');
  await pause(slug);
  await resume(slug);
  await client.query('select 1');
  expect(received).toEqual(['flow:paused', 'flow:resumed', `work:${slug}`]);
});

it('pausing an unknown flow is PF002 naming it, and changes nothing', async () => {
  const before = await snapshotTables(db);
  await expectEngineError(pause('no_such_flow'), { code: 'PF002', naming: ['no_such_flow'] });
  await expectEngineError(resume('no_such_flow'), { code: 'PF002', naming: ['no_such_flow'] });
  expect(await snapshotTables(db)).toEqual(before);
});
