/**
 * fail_task: retries with exponential delays while attempts are left, then the step's
 * when_exhausted policy (fail, skip, skip-cascade).
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  archivedMessages,
  completeTask,
  defineFlow,
  failTask,
  makeVisible,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  type StepSpec,
  startRun,
  statuses,
  stepState,
  stepStates,
  stepTask,
  taskMessage,
} from './support/engine-driver.ts';
import { databaseClock, expectVisibleAfter } from './support/visibility.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(steps: readonly StepSpec[], options: { maxAttempts?: number; baseDelay?: number } = {}) {
  const slug = `retry_${++flows}`;
  await defineFlow(db, slug, steps, options);
  return slug;
}

describe('retries', () => {
  it('a failed attempt with attempts left is queued again with its error recorded', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 5 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    const [returned] = await failTask(db, run.run_id, 'flaky', 0, 'timeout talking to the API');
    expect(returned).toMatchObject({
      status: 'queued',
      attempts_count: 1,
      error_message: 'timeout talking to the API',
    });
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({
      status: 'queued',
      attempts_count: 1,
      error_message: 'timeout talking to the API',
      failed_at: null,
    });
    expect(await stepState(db, run.run_id, 'flaky')).toMatchObject({ status: 'started', remaining_tasks: 1 });
    expect((await runRow(db, run.run_id)).status).toBe('started');
  });

  it('waits floor(base_delay * 2^attempts) seconds: 10 s after the first attempt with base 5', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 5 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    const since = await databaseClock(db);
    await failTask(db, run.run_id, 'flaky', 0, 'first');
    const message = await taskMessage(db, slug, run.run_id, 'flaky');
    await expectVisibleAfter(db, slug, message?.msg_id as string, since, 10);
    expect(message?.read_ct).toBe(1);
    expect(await pollTasks(db, slug)).toEqual([]);
  });

  it('waits 20 s after the second attempt with base 5, and counts reads and attempts', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 5 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'first');
    const queued = await stepTask(db, run.run_id, 'flaky');
    await makeVisible(db, slug, queued.message_id as string);

    const again = await pollOne(db, slug, 'flaky');
    expect(again.msg_id).toBe(queued.message_id);
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({ status: 'started', attempts_count: 2 });
    expect((await taskMessage(db, slug, run.run_id, 'flaky'))?.read_ct).toBe(2);

    const since = await databaseClock(db);
    await failTask(db, run.run_id, 'flaky', 0, 'second');
    await expectVisibleAfter(db, slug, queued.message_id as string, since, 20);
    expect(await stepTask(db, run.run_id, 'flaky')).toMatchObject({ status: 'queued', error_message: 'second' });
  });

  it("uses the step's base delay over the flow's", async () => {
    const slug = await flow([{ slug: 'flaky', baseDelay: 3 }], { maxAttempts: 3, baseDelay: 50 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'flaky');
    const since = await databaseClock(db);
    await failTask(db, run.run_id, 'flaky', 0, 'first');
    const message = await taskMessage(db, slug, run.run_id, 'flaky');
    await expectVisibleAfter(db, slug, message?.msg_id as string, since, 6);
  });

  it('a retried task gets the same input and can complete the run', async () => {
    const slug = await flow([{ slug: 'flaky' }, { slug: 'next', deps: ['flaky'] }], { maxAttempts: 2, baseDelay: 0 });
    const run = await startRun(db, slug, { q: 1 });
    const first = await pollOne(db, slug, 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'once');
    const second = await pollOne(db, slug, 'flaky');
    expect([second.input, second.flow_input]).toEqual([first.input, first.flow_input]);
    await completeTask(db, run.run_id, 'flaky', 0, 'ok');
    await pollOne(db, slug, 'next');
    await completeTask(db, run.run_id, 'next', 0, 'fine');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { next: 'fine' } });
  });

  it("uses the step's max_attempts over the flow's", async () => {
    const slug = await flow([{ slug: 'once', maxAttempts: 1 }], { maxAttempts: 5, baseDelay: 0 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'once');
    await failTask(db, run.run_id, 'once', 0, 'no second chance');
    expect((await stepTask(db, run.run_id, 'once')).status).toBe('failed');
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });

  it('max_attempts 0 makes the first failure final', async () => {
    const slug = await flow([{ slug: 'never_retried', maxAttempts: 0 }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'never_retried');
    await failTask(db, run.run_id, 'never_retried', 0, 'once is enough');
    expect((await stepTask(db, run.run_id, 'never_retried')).status).toBe('failed');
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });

  it('retries max_attempts - 1 times: the third failure of three attempts is final', async () => {
    const slug = await flow([{ slug: 'flaky' }], { maxAttempts: 3, baseDelay: 0 });
    const run = await startRun(db, slug, {});
    const seen: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await pollOne(db, slug, 'flaky');
      await failTask(db, run.run_id, 'flaky', 0, `attempt ${attempt}`);
      const task = await stepTask(db, run.run_id, 'flaky');
      seen.push(`${task.status}/${task.attempts_count}`);
    }
    expect(seen).toEqual(['queued/1', 'queued/2', 'failed/3']);
  });
});

describe('exhaustion', () => {
  it('with fail, the task, the step and the run fail with the error message', async () => {
    const slug = await flow([
      { slug: 'doomed', maxAttempts: 1 },
      { slug: 'after', deps: ['doomed'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'doomed');
    await failTask(db, run.run_id, 'doomed', 0, 'disk full');
    const task = await stepTask(db, run.run_id, 'doomed');
    expect(task).toMatchObject({ status: 'failed', error_message: 'disk full', attempts_count: 1 });
    expect(task.failed_at).toBeInstanceOf(Date);
    const step = await stepState(db, run.run_id, 'doomed');
    expect(step).toMatchObject({ status: 'failed', error_message: 'disk full', output: null });
    expect(step.failed_at).toBeInstanceOf(Date);
    expect((await stepState(db, run.run_id, 'after')).status).toBe('created');
    const failed = await runRow(db, run.run_id);
    expect(failed).toMatchObject({ status: 'failed', completed_at: null });
    expect(failed.failed_at).toBeInstanceOf(Date);
  });

  it("with fail, every message of the run is archived, and other runs' are not", async () => {
    const slug = await flow([{ slug: 'doomed', maxAttempts: 1 }, { slug: 'sibling' }, { slug: 'each', type: 'map' }]);
    const run = await startRun(db, slug, [1, 2]);
    const other = await startRun(db, slug, [1]);
    await pollOne(db, slug, 'doomed', { runId: run.run_id, stepSlug: 'doomed' });
    await failTask(db, run.run_id, 'doomed', 0, 'boom');
    expect(await queueMessages(db, slug, run.run_id)).toEqual([]);
    expect(await archivedMessages(db, slug, run.run_id)).toHaveLength(4);
    expect(await queueMessages(db, slug, other.run_id)).toHaveLength(3);
  });

  it("with skip, the exhausted task's message is archived", async () => {
    const slug = await flow([{ slug: 'optional', maxAttempts: 1, whenExhausted: 'skip' }, { slug: 'main' }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'optional', { runId: run.run_id, stepSlug: 'optional' });
    await failTask(db, run.run_id, 'optional', 0, 'gave up');
    const left = (await queueMessages(db, slug, run.run_id)).map((m) => m.message.step_slug);
    expect(left).toEqual(['main']);
  });

  it('with fail on a map task, the map step and the run fail', async () => {
    const slug = await flow([{ slug: 'each', type: 'map', maxAttempts: 1 }]);
    const run = await startRun(db, slug, ['a', 'b', 'c']);
    await pollTasks(db, slug);
    await completeTask(db, run.run_id, 'each', 0, 'ok');
    await failTask(db, run.run_id, 'each', 1, 'bad element');
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'failed', error_message: 'bad element' });
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });

  it('with skip, the step is skipped as handler_failed and its dependents run without its key', async () => {
    const slug = await flow([
      { slug: 'optional', maxAttempts: 1, whenExhausted: 'skip' },
      { slug: 'required' },
      { slug: 'join', deps: ['optional', 'required'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    await failTask(db, run.run_id, 'optional', 0, 'enrichment down');
    expect((await stepTask(db, run.run_id, 'optional')).status).toBe('failed');
    const optional = await stepState(db, run.run_id, 'optional');
    expect(optional).toMatchObject({ status: 'skipped', skip_reason: 'handler_failed', output: null });
    expect(optional.skipped_at).toBeInstanceOf(Date);
    expect((await runRow(db, run.run_id)).status).toBe('started');

    await completeTask(db, run.run_id, 'required', 0, 'R');
    const join = await pollOne(db, slug, 'join');
    expect(join.input).toEqual({ required: 'R' });
    await completeTask(db, run.run_id, 'join', 0, 'J');
    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      remaining_steps: 0,
      output: { join: 'J' },
    });
  });

  it('with skip on a leaf step, the run completes without its key', async () => {
    const slug = await flow([{ slug: 'optional', maxAttempts: 1, whenExhausted: 'skip' }, { slug: 'main' }]);
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    await completeTask(db, run.run_id, 'main', 0, 'M');
    await failTask(db, run.run_id, 'optional', 0, 'nope');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { main: 'M' } });
  });

  it('with skip-cascade, the step and everything downstream are skipped, the rest goes on', async () => {
    const slug = await flow([
      { slug: 'source', maxAttempts: 1, whenExhausted: 'skip-cascade' },
      { slug: 'independent' },
      { slug: 'child', deps: ['source'] },
      { slug: 'each_child', deps: ['child'], type: 'map' },
      { slug: 'mixed', deps: ['child', 'independent'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    await failTask(db, run.run_id, 'source', 0, 'source down');
    const states = await stepStates(db, run.run_id);
    expect(states.source).toMatchObject({ status: 'skipped', skip_reason: 'handler_failed' });
    for (const downstream of ['child', 'each_child', 'mixed']) {
      expect(states[downstream]).toMatchObject({ status: 'skipped', skip_reason: 'dependency_skipped' });
    }
    expect(states.independent?.status).toBe('started');

    await completeTask(db, run.run_id, 'independent', 0, 'I');
    expect(await statuses(db, run.run_id)).toMatchObject({ independent: 'completed', mixed: 'skipped' });
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', remaining_steps: 0, output: {} });
  });

  it('with skip on a map step, the whole step is skipped and later task outcomes are ignored', async () => {
    const slug = await flow([{ slug: 'each', type: 'map', maxAttempts: 1, whenExhausted: 'skip' }, { slug: 'other' }]);
    const run = await startRun(db, slug, [1, 2]);
    await pollTasks(db, slug);
    await failTask(db, run.run_id, 'each', 0, 'bad');
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'skipped', skip_reason: 'handler_failed' });
    await completeTask(db, run.run_id, 'each', 1, 'late');
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'skipped', output: null });
    await completeTask(db, run.run_id, 'other', 0, 'O');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { other: 'O' } });
  });
});
