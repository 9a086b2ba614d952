/**
 * pgflow.retry_run: a failed or cancelled run starts again from where it stopped. Completed steps
 * keep their outputs and do not run again, a map step re-runs only its tasks that did not complete,
 * attempts start again at 1, and the counters are rebuilt so that the run completes once.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  addStep,
  completeTask,
  defineFlow,
  drain,
  failTask,
  pollOne,
  pollTasks,
  runRow,
  type StepSpec,
  snapshotTables,
  startRun,
  statuses,
  stepState,
  stepTasks,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(steps: readonly StepSpec[]) {
  const slug = `retry_${++flows}`;
  await defineFlow(db, slug, steps, { maxAttempts: 1, baseDelay: 0 });
  return slug;
}

function retry(runId: string, fromStep: string | null = null) {
  return db.query<{ run_id: string; status: string }>(
    'select * from pgflow.retry_run(run_id => $1::uuid, from_step => $2)',
    [runId, fromStep],
  );
}

/** A → B → C where B fails its only attempt. */
async function failedChain() {
  const slug = await flow([{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['b'] }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'a');
  await completeTask(db, run.run_id, 'a', 0, { original: true });
  await pollOne(db, slug, 'b');
  await failTask(db, run.run_id, 'b', 0, 'bug');
  expect((await runRow(db, run.run_id)).status).toBe('failed');
  return { slug, run };
}

it('re-runs the failed step and what follows it, not the completed one, and completes once', async () => {
  const { slug, run } = await failedChain();
  const [retried] = await retry(run.run_id);
  expect(retried).toMatchObject({ run_id: run.run_id, status: 'started' });
  expect(await statuses(db, run.run_id)).toEqual({ a: 'completed', b: 'started', c: 'created' });
  expect(await runRow(db, run.run_id)).toMatchObject({ remaining_steps: 2, failed_at: null });

  const handled = await drain(db, slug, (task) => ({ ran: task.step_slug, got: task.input }));
  expect(handled.map((t) => t.step_slug)).toEqual(['b', 'c']);
  expect(handled[0]?.input).toEqual({ a: { original: true } });
  const done = await runRow(db, run.run_id);
  expect(done).toMatchObject({ status: 'completed', remaining_steps: 0 });
  expect(done.output).toEqual({ c: { ran: 'c', got: { b: { ran: 'b', got: { a: { original: true } } } } } });
  expect(await stepState(db, run.run_id, 'a')).toMatchObject({ output: { original: true } });
});

it('attempts start again at 1', async () => {
  const { slug, run } = await failedChain();
  await retry(run.run_id);
  await pollOne(db, slug, 'b');
  expect((await stepTasks(db, run.run_id, 'b'))[0]).toMatchObject({ status: 'started', attempts_count: 1 });
});

it('a map step re-runs only its tasks that did not complete', async () => {
  const slug = await flow([{ slug: 'items', type: 'map' }]);
  const input = Array.from({ length: 100 }, (_, i) => i);
  const run = await startRun(db, slug, input);
  const failing = new Set([7, 42, 99]);
  for (;;) {
    const tasks = await pollTasks(db, slug);
    if (tasks.length === 0) break;
    for (const task of tasks) {
      if (failing.has(task.task_index)) await failTask(db, run.run_id, 'items', task.task_index, 'bad element');
      else await completeTask(db, run.run_id, 'items', task.task_index, (task.input as number) * 2);
    }
  }
  expect((await runRow(db, run.run_id)).status).toBe('failed');
  // The run failed at the first bad element: some tasks may never have been reported.
  const notCompleted = (await stepTasks(db, run.run_id, 'items')).filter((t) => t.status !== 'completed');
  await retry(run.run_id);
  const rerun = await drain(db, slug, (task) => (task.input as number) * 2);
  expect(rerun.map((t) => t.task_index).sort((x, y) => x - y)).toEqual(notCompleted.map((t) => t.task_index));
  expect(rerun.map((t) => t.task_index)).toEqual(expect.arrayContaining([7, 42, 99]));
  const done = await runRow(db, run.run_id);
  expect(done.status).toBe('completed');
  expect(done.output).toEqual({ items: input.map((i) => i * 2) });
});

it('retries a cancelled run', async () => {
  const slug = await flow([{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
  const run = await startRun(db, slug, {});
  await pollOne(db, slug, 'a');
  await completeTask(db, run.run_id, 'a', 0, 1);
  await db.query('select pgflow.cancel_run($1::uuid)', [run.run_id]);
  await retry(run.run_id);
  expect(await runRow(db, run.run_id)).toMatchObject({ status: 'started', cancelled_at: null });
  expect((await drain(db, slug, () => 2)).map((t) => t.step_slug)).toEqual(['b']);
  expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { b: 2 } });
});

it('from_step re-runs that completed step and everything downstream, in a completed run too', async () => {
  const slug = await flow([{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['b'] }]);
  const run = await startRun(db, slug, {});
  await drain(db, slug, (task) => `first ${task.step_slug}`);
  await retry(run.run_id, 'b');
  expect(await statuses(db, run.run_id)).toEqual({ a: 'completed', b: 'started', c: 'created' });
  expect((await drain(db, slug, (task) => `second ${task.step_slug}`)).map((t) => t.step_slug)).toEqual(['b', 'c']);
  expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { c: 'second c' } });
  expect(await stepState(db, run.run_id, 'a')).toMatchObject({ output: 'first a' });
});

it('emits run:retried', async () => {
  const { run } = await failedChain();
  const client = await db.connect();
  const events: string[] = [];
  client.on('notification', (n) => events.push(JSON.parse(n.payload ?? '{}').event_type));
  await client.query(`listen "pgflow:run:${run.run_id}"`);
  await retry(run.run_id);
  await client.query('select 1');
  expect(events).toEqual(['run:retried', 'step:started']);
});

describe('refusals: a clear error, nothing changed', () => {
  async function expectRefused(call: Promise<unknown>, code: string, naming: string[]) {
    const before = await snapshotTables(db);
    await expectEngineError(call, { code, naming });
    expect(await snapshotTables(db)).toEqual(before);
  }

  it('a run in progress', async () => {
    const slug = await flow([{ slug: 'a' }]);
    const run = await startRun(db, slug, {});
    await expectRefused(retry(run.run_id), 'PF013', [run.run_id, 'started']);
  });

  it('a completed run without from_step', async () => {
    const slug = await flow([{ slug: 'a' }]);
    const run = await startRun(db, slug, {});
    await drain(db, slug, () => 1);
    await expectRefused(retry(run.run_id), 'PF013', [run.run_id, 'completed']);
  });

  it('an unknown run', async () => {
    const unknown = '00000000-0000-4000-8000-000000000456';
    await expectRefused(retry(unknown), 'PF009', [unknown]);
  });

  it('an unknown from_step', async () => {
    const { run } = await failedChain();
    await expectRefused(retry(run.run_id, 'nope'), 'PF014', ['nope']);
  });

  it('a flow whose steps changed since the run started', async () => {
    const { slug, run } = await failedChain();
    await addStep(db, slug, { slug: 'added', deps: ['c'] });
    await expectRefused(retry(run.run_id), 'PF015', [slug, run.run_id]);
  });
});
