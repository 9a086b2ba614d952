/**
 * Late calls: a complete_task or fail_task that arrives after a retry re-queued the task, after
 * the run failed, or a second time for the same task changes nothing in the engine's tables (only
 * the message may be archived).
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  failTask,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  type StepSpec,
  snapshotTables,
  startRun,
  stepState,
  stepTask,
} from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(steps: readonly StepSpec[], options: { maxAttempts?: number; baseDelay?: number } = {}) {
  const slug = `late_${++flows}`;
  await defineFlow(db, slug, steps, options);
  return slug;
}

/** Runs a late call and checks that no pgflow table changed. */
async function expectNoChange(call: () => Promise<unknown>): Promise<void> {
  const before = await snapshotTables(db);
  await call();
  expect(await snapshotTables(db)).toEqual(before);
}

describe('after a retry re-queued the task', () => {
  it('late completion does not change the task, the step or the run', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 30 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'first attempt timed out');
    await expectNoChange(() => completeTask(db, run.run_id, 'flaky', 0, 'from the first attempt'));
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({ status: 'queued', output: null });
  });

  it('late completion does not cancel the retry: the task is delivered again', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 0 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'first attempt timed out');
    await completeTask(db, run.run_id, 'flaky', 0, 'from the first attempt');
    await pollOne(db, slug, 'flaky');
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({ status: 'started', attempts_count: 2 });
    await completeTask(db, run.run_id, 'flaky', 0, 'from the retry');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { flaky: 'from the retry' } });
  });

  it('late failure does not use up an attempt or change the error', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 30 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'first');
    await expectNoChange(() => failTask(db, run.run_id, 'flaky', 0, 'late duplicate'));
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({
      status: 'queued',
      attempts_count: 1,
      error_message: 'first',
    });
  });
});

describe('after the run failed', () => {
  async function failedRunWithStartedSibling() {
    const slug = await flow([
      { slug: 'doomed', maxAttempts: 1 },
      { slug: 'sibling' },
      { slug: 'next', deps: ['sibling'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    await failTask(db, run.run_id, 'doomed', 0, 'fatal');
    expect((await runRow(db, run.run_id)).status).toBe('failed');
    return { slug, runId: run.run_id };
  }

  it('late completion of another task does not change anything', async () => {
    const { runId } = await failedRunWithStartedSibling();
    await expectNoChange(() => completeTask(db, runId, 'sibling', 0, 'too late'));
    expect((await stepState(db, runId, 'sibling')).status).toBe('started');
    expect((await stepState(db, runId, 'next')).status).toBe('created');
  });

  it('late completion leaves no message of the run in the queue', async () => {
    const { slug, runId } = await failedRunWithStartedSibling();
    await completeTask(db, runId, 'sibling', 0, 'too late');
    expect(await queueMessages(db, slug, runId)).toEqual([]);
  });

  it('late failure of another task does not change anything', async () => {
    const { runId } = await failedRunWithStartedSibling();
    await expectNoChange(() => failTask(db, runId, 'sibling', 0, 'also broken'));
    expect(await stepTask(db, runId, 'sibling')).toMatchObject({ status: 'started', error_message: null });
  });

  it('a second failure of the failed task does not change anything', async () => {
    const { runId } = await failedRunWithStartedSibling();
    await expectNoChange(() => failTask(db, runId, 'doomed', 0, 'again'));
    expect(await stepTask(db, runId, 'doomed')).toMatchObject({ status: 'failed', error_message: 'fatal' });
  });
});

describe('a second call for the same task', () => {
  it('a second completion does not change the output or the counters', async () => {
    const slug = await flow([{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'a');
    await completeTask(db, run.run_id, 'a', 0, 'first');
    await expectNoChange(() => completeTask(db, run.run_id, 'a', 0, 'second'));
    expect(await stepState(db, run.run_id, 'a')).toMatchObject({ status: 'completed', output: 'first' });
    expect(await stepState(db, run.run_id, 'b')).toMatchObject({ status: 'started', remaining_deps: 0 });
    expect((await runRow(db, run.run_id)).remaining_steps).toBe(1);
  });

  it('a second completion of a map task does not decrement the step twice', async () => {
    const slug = await flow([{ slug: 'each', type: 'map' }]);
    const run = await startRun(db, slug, [1, 2, 3]);
    await pollTasks(db, slug);
    await completeTask(db, run.run_id, 'each', 0, 'x');
    await expectNoChange(() => completeTask(db, run.run_id, 'each', 0, 'x'));
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'started', remaining_tasks: 2 });
  });

  it('a failure after the completion does not change anything', async () => {
    const slug = await flow([{ slug: 'a' }, { slug: 'b', deps: ['a'] }], { maxAttempts: 1 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'a');
    await completeTask(db, run.run_id, 'a', 0, 'done');
    await expectNoChange(() => failTask(db, run.run_id, 'a', 0, 'crashed after reporting'));
    expect((await runRow(db, run.run_id)).status).toBe('started');
  });

  it('a completion after the final failure does not change anything', async () => {
    const slug = await flow([
      { slug: 'a', maxAttempts: 1, whenExhausted: 'skip' },
      { slug: 'b', deps: ['a'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'a');
    await failTask(db, run.run_id, 'a', 0, 'gave up');
    await expectNoChange(() => completeTask(db, run.run_id, 'a', 0, 'actually done'));
    expect(await stepState(db, run.run_id, 'a')).toMatchObject({ status: 'skipped', output: null });
  });

  it('a completion after the run completed does not change anything', async () => {
    const slug = await flow([{ slug: 'a' }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'a');
    await completeTask(db, run.run_id, 'a', 0, 'done');
    expect((await runRow(db, run.run_id)).status).toBe('completed');
    await expectNoChange(() => completeTask(db, run.run_id, 'a', 0, 'again'));
    await expectNoChange(() => failTask(db, run.run_id, 'a', 0, 'again'));
  });
});
