/**
 * pgflow.cancel_run: every unfinished step state and task becomes cancelled, the run's messages
 * leave the queue, what its handlers report afterwards changes nothing, the stalled sweep never
 * revives its tasks, and a run that already ended is left as it is.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  failTask,
  onClient,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  type StepSpec,
  snapshotTables,
  startRun,
  statuses,
  stepTasks,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(steps: readonly StepSpec[]) {
  const slug = `cancel_${++flows}`;
  await defineFlow(db, slug, steps, { maxAttempts: 3, baseDelay: 0 });
  return slug;
}

async function cancel(runId: string, reason: string | null = null) {
  const [row] = await db.query<{ result: { run_id: string; status: string; cancelled: boolean } }>(
    'select pgflow.cancel_run(run_id => $1::uuid, reason => $2) as result',
    [runId, reason],
  );
  return row?.result;
}

it('cancels the run, its unfinished step states and tasks, and empties its queue', async () => {
  const slug = await flow([{ slug: 'first' }, { slug: 'second', deps: ['first'] }, { slug: 'other' }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'first', { runId: run.run_id, stepSlug: 'first' });

  expect(await cancel(run.run_id, 'wrong input')).toEqual({
    run_id: run.run_id,
    status: 'cancelled',
    cancelled: true,
  });

  expect(await runRow(db, run.run_id)).toMatchObject({ status: 'cancelled', cancel_reason: 'wrong input' });
  expect((await runRow(db, run.run_id)).cancelled_at).not.toBeNull();
  expect(await statuses(db, run.run_id)).toEqual({ first: 'cancelled', second: 'cancelled', other: 'cancelled' });
  expect((await stepTasks(db, run.run_id)).map((t) => [t.step_slug, t.status])).toEqual([
    ['first', 'cancelled'],
    ['other', 'cancelled'],
  ]);
  expect(await queueMessages(db, slug, run.run_id)).toEqual([]);
});

it('leaves completed steps completed', async () => {
  const slug = await flow([{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'first');
  await completeTask(db, run.run_id, 'first', 0, 'done');
  await cancel(run.run_id);
  expect(await statuses(db, run.run_id)).toEqual({ first: 'completed', second: 'cancelled' });
});

it('a late completion or failure of a cancelled task changes nothing', async () => {
  const slug = await flow([{ slug: 'only' }, { slug: 'next', deps: ['only'] }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'only');
  await cancel(run.run_id);
  const before = await snapshotTables(db);
  await completeTask(db, run.run_id, 'only', 0, 'late');
  await failTask(db, run.run_id, 'only', 0, 'late');
  expect(await snapshotTables(db)).toEqual(before);
  expect(await statuses(db, run.run_id)).toEqual({ only: 'cancelled', next: 'cancelled' });
});

it('no task of the run starts after the cancel, and the stalled sweep does not revive its tasks', async () => {
  const slug = await flow([{ slug: 'slow', timeout: 1 }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'slow');
  await cancel(run.run_id);
  await db.query(`update pgflow.step_tasks set started_at = started_at - interval '1 hour' where run_id = $1`, [
    run.run_id,
  ]);
  expect(await db.query('select pgflow.requeue_stalled_tasks() as n')).toEqual([{ n: 0 }]);
  expect(await pollTasks(db, slug)).toEqual([]);
  expect((await stepTasks(db, run.run_id))[0]).toMatchObject({ status: 'cancelled', requeued_count: 0 });
});

it('cancelling a run that ended changes nothing and says so', async () => {
  const slug = await flow([{ slug: 'only' }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'only');
  await completeTask(db, run.run_id, 'only', 0, 1);
  const before = await snapshotTables(db);
  expect(await cancel(run.run_id)).toEqual({ run_id: run.run_id, status: 'completed', cancelled: false });
  expect(await snapshotTables(db)).toEqual(before);
});

it('an unknown run id is PF009, naming it, and changes nothing', async () => {
  const before = await snapshotTables(db);
  const unknown = '00000000-0000-4000-8000-000000000123';
  await expectEngineError(cancel(unknown), { code: 'PF009', naming: [unknown] });
  expect(await snapshotTables(db)).toEqual(before);
});

it('emits step:cancelled and run:cancelled with the reason, and tells the workers on pgflow:control', async () => {
  const slug = await flow([{ slug: 'only' }]);
  const run = await startRun(db, slug, {});
  const client = await db.connect();
  const received: Array<{ channel: string; payload: unknown }> = [];
  client.on('notification', (n) => received.push({ channel: n.channel, payload: JSON.parse(n.payload ?? 'null') }));
  await client.query(`listen "pgflow:run:${run.run_id}"`);
  await client.query('listen "pgflow:control"');
  await cancel(run.run_id, 'stop');
  await onClient(client).query('select 1');
  await new Promise((resolve) => setImmediate(resolve));
  expect(received.map((r) => [r.channel, (r.payload as { event_type: string }).event_type])).toEqual([
    [`pgflow:run:${run.run_id}`, 'step:cancelled'],
    [`pgflow:run:${run.run_id}`, 'run:cancelled'],
    ['pgflow:control', 'run:cancelled'],
  ]);
  expect(received[1]?.payload).toMatchObject({ status: 'cancelled', reason: 'stop' });
  expect(received[2]?.payload).toEqual({ event_type: 'run:cancelled', run_id: run.run_id, flow_slug: slug });
});

it('a concurrent cancel and completion of the last task: exactly one wins', async () => {
  for (let round = 0; round < 10; round++) {
    const slug = await flow([{ slug: 'only' }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'only');
    const [a, b] = [await db.connect(), await db.connect()];
    await Promise.all([
      onClient(a).query('select pgflow.cancel_run($1::uuid)', [run.run_id]),
      onClient(b).query(`select pgflow.complete_task($1::uuid, 'only', 0, '1'::jsonb)`, [run.run_id]),
    ]);
    await Promise.all([a.end(), b.end()]);
    const final = await runRow(db, run.run_id);
    const states = await statuses(db, run.run_id);
    if (final.status === 'completed') expect(states).toEqual({ only: 'completed' });
    else expect([final.status, states]).toEqual(['cancelled', { only: 'cancelled' }]);
  }
});

it('a 1,000-task map cancelled mid-way: no task starts after the cancel, the rest are cancelled', async () => {
  const slug = await flow([{ slug: 'items', type: 'map' }]);
  const run = await startRun(
    db,
    slug,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const started = await pollTasks(db, slug, { qty: 100 });
  for (const task of started.slice(0, 50)) await completeTask(db, run.run_id, 'items', task.task_index, 1);
  await cancel(run.run_id);

  expect(await pollTasks(db, slug, { qty: 1000, vt: 0 })).toEqual([]);
  const [counts] = await db.query<{ completed: number; cancelled: number; other: number }>(
    `select count(*) filter (where status = 'completed')::int as completed,
            count(*) filter (where status = 'cancelled')::int as cancelled,
            count(*) filter (where status not in ('completed', 'cancelled'))::int as other
       from pgflow.step_tasks where run_id = $1`,
    [run.run_id],
  );
  expect(counts).toEqual({ completed: 50, cancelled: 950, other: 0 });
  expect(await queueMessages(db, slug, run.run_id)).toEqual([]);
});
