/**
 * The batched paths: complete_tasks and fail_tasks take many tasks in one call, with the same
 * guards, aggregation, checks, cascades and events as calling complete_task / fail_task for each;
 * entries for unknown runs or tasks and late entries are ignored; they return how many tasks they
 * completed (failed).
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  type Completion,
  completeTask,
  completeTasks,
  defineFlow,
  failTasks,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  startRun,
  statuses,
  stepState,
  stepTask,
  stepTasks,
  taskMessage,
} from './support/engine-driver.ts';
import { eventNames, listenToRun } from './support/engine-events.ts';
import { databaseClock, expectVisibleAfter } from './support/visibility.ts';

const db = useTestDatabase();

beforeAll(async () => {
  await defineFlow(db, 'batched_map', [
    { slug: 'each', type: 'map' },
    { slug: 'after', deps: ['each'] },
  ]);
  await defineFlow(db, 'batched_single', [{ slug: 'only' }]);
  await defineFlow(db, 'batched_chain', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
});

const entry = (runId: string, stepSlug: string, taskIndex: number, output: unknown): Completion => ({
  run_id: runId,
  step_slug: stepSlug,
  task_index: taskIndex,
  output,
});

describe('complete_tasks', () => {
  it('completes every task of a map step given in shuffled order, with outputs in task order', async () => {
    const run = await startRun(db, 'batched_map', [0, 1, 2, 3, 4, 5, 6, 7]);
    await pollTasks(db, 'batched_map', { runId: run.run_id });
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    const count = await completeTasks(
      db,
      order.map((i) => entry(run.run_id, 'each', i, `r${i}`)),
    );
    expect(count).toBe(8);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'completed',
      remaining_tasks: 0,
      output: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
    });
    const after = await pollOne(db, 'batched_map', 'after', { runId: run.run_id });
    expect(after.input).toEqual({ each: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'] });
  });

  it('completes part of a map step and leaves the rest waiting', async () => {
    const run = await startRun(db, 'batched_map', [1, 2, 3]);
    await pollTasks(db, 'batched_map', { runId: run.run_id });
    expect(await completeTasks(db, [entry(run.run_id, 'each', 2, 'c'), entry(run.run_id, 'each', 0, 'a')])).toBe(2);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'started', remaining_tasks: 1 });
    await completeTask(db, run.run_id, 'each', 1, 'b');
    expect((await stepState(db, run.run_id, 'each')).output).toEqual(['a', 'b', 'c']);
  });

  it('completes tasks of several runs in one call, and each run completes', async () => {
    const runs = await Promise.all([1, 2, 3].map((n) => startRun(db, 'batched_single', { n })));
    for (const run of runs) await pollOne(db, 'batched_single', 'only', { runId: run.run_id });
    const count = await completeTasks(
      db,
      runs.map((run, i) => entry(run.run_id, 'only', 0, i)),
    );
    expect(count).toBe(3);
    for (const [i, run] of runs.entries()) {
      expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { only: i } });
    }
  });

  it('ignores late, duplicate and unknown entries and counts only the tasks it completed', async () => {
    const run = await startRun(db, 'batched_map', [1, 2, 3]);
    await pollTasks(db, 'batched_map', { runId: run.run_id });
    await completeTask(db, run.run_id, 'each', 0, 'first');
    const lateBefore = await stepTask(db, run.run_id, 'each', 0);

    const count = await completeTasks(db, [
      entry(run.run_id, 'each', 0, 'late'),
      entry(run.run_id, 'each', 1, 'one'),
      entry(run.run_id, 'each', 1, 'duplicate'),
      entry(randomUUID(), 'each', 0, 'unknown run'),
      entry(run.run_id, 'ghost', 0, 'unknown step'),
      entry(run.run_id, 'each', 42, 'unknown index'),
    ]);
    expect(count).toBe(1);
    expect(await stepTask(db, run.run_id, 'each', 0)).toEqual(lateBefore);
    expect(await stepTask(db, run.run_id, 'each', 1)).toMatchObject({ status: 'completed', output: 'one' });
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'started', remaining_tasks: 1 });
  });

  it('completes a task named twice in one batch once, with the first output', async () => {
    const run = await startRun(
      db,
      'batched_map',
      Array.from({ length: 100 }, (_, i) => i),
    );
    await pollTasks(db, 'batched_map', { runId: run.run_id });
    const entries = Array.from({ length: 100 }, (_, i) => [
      entry(run.run_id, 'each', i, `first ${i}`),
      entry(run.run_id, 'each', i, `second ${i}`),
    ]).flat();
    expect(await completeTasks(db, entries)).toBe(100);
    expect((await stepState(db, run.run_id, 'each')).output).toEqual(
      Array.from({ length: 100 }, (_, i) => `first ${i}`),
    );
  });

  it('returns 0 for an empty batch', async () => {
    expect(await completeTasks(db, [])).toBe(0);
  });

  it('cascades like complete_task: the dependent step starts and its message is sent', async () => {
    const run = await startRun(db, 'batched_chain', {});
    await pollOne(db, 'batched_chain', 'a', { runId: run.run_id });
    await completeTasks(db, [entry(run.run_id, 'a', 0, { from: 'a' })]);
    expect(await statuses(db, run.run_id)).toEqual({ a: 'completed', b: 'started' });
    expect((await queueMessages(db, 'batched_chain', run.run_id)).map((m) => m.message.step_slug)).toEqual(['b']);
    const b = await pollOne(db, 'batched_chain', 'b', { runId: run.run_id });
    expect(b.input).toEqual({ a: { from: 'a' } });
  });

  it('emits the same events as complete_task', async () => {
    const runId = randomUUID();
    const listener = await listenToRun(db, runId);
    await startRun(db, 'batched_chain', {}, runId);
    await pollOne(db, 'batched_chain', 'a', { runId });
    await completeTasks(db, [entry(runId, 'a', 0, 1)]);
    await pollOne(db, 'batched_chain', 'b', { runId });
    await completeTasks(db, [entry(runId, 'b', 0, 2)]);
    await listener.settle();
    const names = eventNames(listener.events()).filter((n) => /^(run|step):/.test(n));
    expect(names).toEqual([
      'run:started',
      'step:started a',
      'step:completed a',
      'step:started b',
      'step:completed b',
      'run:completed',
    ]);
    await listener.close();
  });

  it('stores falsy outputs as themselves', async () => {
    const run = await startRun(db, 'batched_map', [1, 2, 3, 4]);
    await pollTasks(db, 'batched_map', { runId: run.run_id });
    await completeTasks(db, [
      entry(run.run_id, 'each', 0, 0),
      entry(run.run_id, 'each', 1, false),
      entry(run.run_id, 'each', 2, ''),
      entry(run.run_id, 'each', 3, null),
    ]);
    expect((await stepState(db, run.run_id, 'each')).output_text).toBe('[0, false, "", null]');
  });

  it('applies the type-violation check and ignores the entries that follow for the failed run', async () => {
    await defineFlow(db, 'batched_violation', [
      { slug: 'list' },
      { slug: 'other' },
      { slug: 'each', deps: ['list'], type: 'map' },
    ]);
    const run = await startRun(db, 'batched_violation', {});
    await pollTasks(db, 'batched_violation', { runId: run.run_id });
    await completeTasks(db, [entry(run.run_id, 'list', 0, { not: 'an array' }), entry(run.run_id, 'other', 0, 'o')]);
    const list = await stepState(db, run.run_id, 'list');
    expect(list.status).toBe('failed');
    expect(list.error_message).toMatch(/^\[TYPE_VIOLATION\]/);
    expect((await runRow(db, run.run_id)).status).toBe('failed');
    expect((await stepState(db, run.run_id, 'other')).status).toBe('started');
    expect(await queueMessages(db, 'batched_violation', run.run_id)).toEqual([]);
  });
});

describe('fail_tasks', () => {
  it('queues each task with attempts left again, after its own retry delay', async () => {
    await defineFlow(db, 'batched_retry', [{ slug: 'each', type: 'map', baseDelay: 5 }], { maxAttempts: 3 });
    const run = await startRun(db, 'batched_retry', [1, 2]);
    await pollTasks(db, 'batched_retry');
    const since = await databaseClock(db);
    const count = await failTasks(db, [
      { run_id: run.run_id, step_slug: 'each', task_index: 0, error_message: 'zero' },
      { run_id: run.run_id, step_slug: 'each', task_index: 1, error_message: 'one' },
    ]);
    expect(count).toBe(2);
    const tasks = await stepTasks(db, run.run_id, 'each');
    expect(tasks.map((t) => [t.status, t.attempts_count, t.error_message])).toEqual([
      ['queued', 1, 'zero'],
      ['queued', 1, 'one'],
    ]);
    for (const index of [0, 1]) {
      const message = await taskMessage(db, 'batched_retry', run.run_id, 'each', index);
      await expectVisibleAfter(db, 'batched_retry', message?.msg_id as string, since, 10);
    }
  });

  it('fails the run on an exhausted task and ignores the entries that follow for it', async () => {
    await defineFlow(db, 'batched_exhaust', [
      { slug: 'a', maxAttempts: 1 },
      { slug: 'b', maxAttempts: 1 },
    ]);
    const run = await startRun(db, 'batched_exhaust', {});
    await pollTasks(db, 'batched_exhaust');
    await failTasks(db, [
      { run_id: run.run_id, step_slug: 'a', task_index: 0, error_message: 'a broke' },
      { run_id: run.run_id, step_slug: 'b', task_index: 0, error_message: 'b broke' },
    ]);
    expect(await stepState(db, run.run_id, 'a')).toMatchObject({ status: 'failed', error_message: 'a broke' });
    expect((await runRow(db, run.run_id)).status).toBe('failed');
    expect(await queueMessages(db, 'batched_exhaust', run.run_id)).toEqual([]);
  });

  it('applies each step policy: skip lets the run go on', async () => {
    await defineFlow(db, 'batched_skip', [
      { slug: 'optional', maxAttempts: 1, whenExhausted: 'skip' },
      { slug: 'main' },
    ]);
    const run = await startRun(db, 'batched_skip', {});
    await pollTasks(db, 'batched_skip');
    await failTasks(db, [{ run_id: run.run_id, step_slug: 'optional', task_index: 0, error_message: 'meh' }]);
    expect(await stepState(db, run.run_id, 'optional')).toMatchObject({
      status: 'skipped',
      skip_reason: 'handler_failed',
    });
    await completeTask(db, run.run_id, 'main', 0, 'M');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { main: 'M' } });
  });

  it('ignores unknown and late entries without error', async () => {
    const run = await startRun(db, 'batched_single', {});
    await pollOne(db, 'batched_single', 'only', { runId: run.run_id });
    await completeTask(db, run.run_id, 'only', 0, 'done');
    const count = await failTasks(db, [
      { run_id: run.run_id, step_slug: 'only', task_index: 0, error_message: 'late' },
      { run_id: randomUUID(), step_slug: 'only', task_index: 0, error_message: 'unknown run' },
      { run_id: run.run_id, step_slug: 'ghost', task_index: 0, error_message: 'unknown step' },
    ]);
    expect(count).toBe(0);
    expect(await stepTask(db, run.run_id, 'only')).toMatchObject({ status: 'completed', error_message: null });
  });
});
