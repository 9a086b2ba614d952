/**
 * Single steps in chains and diamonds: ordering, inputs built from dependency outputs, run
 * completion with the leaf outputs, and outputs that are falsy JSON.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  drain,
  pollOne,
  pollTasks,
  queueMessages,
  runOutputText,
  runRow,
  startRun,
  statuses,
  stepState,
  stepTask,
} from './support/engine-driver.ts';

const db = useTestDatabase();

describe('sequential chain', () => {
  beforeAll(async () => {
    await defineFlow(db, 'chain', [
      { slug: 'first' },
      { slug: 'second', deps: ['first'] },
      { slug: 'third', deps: ['second'] },
    ]);
  });

  it('runs the steps one after the other, each with the output of the previous one', async () => {
    const run = await startRun(db, 'chain', { start: 1 });
    const only = { runId: run.run_id };

    const first = await pollOne(db, 'chain', 'first', only);
    expect(first.input).toEqual({});
    await completeTask(db, run.run_id, 'first', 0, { one: 1 });

    const second = await pollOne(db, 'chain', 'second', only);
    expect(second.input).toEqual({ first: { one: 1 } });
    await completeTask(db, run.run_id, 'second', 0, { two: 2 });

    const third = await pollOne(db, 'chain', 'third', only);
    expect(third.input).toEqual({ second: { two: 2 } });
    await completeTask(db, run.run_id, 'third', 0, { three: 3 });

    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      remaining_steps: 0,
      output: { third: { three: 3 } },
    });
  });

  it('does not queue a step before its dependency completes', async () => {
    const run = await startRun(db, 'chain', {});
    expect((await queueMessages(db, 'chain', run.run_id)).map((m) => m.message.step_slug)).toEqual(['first']);
    await pollOne(db, 'chain', 'first', { runId: run.run_id });
    expect(await pollTasks(db, 'chain', { runId: run.run_id })).toEqual([]);
    expect(await statuses(db, run.run_id)).toEqual({ first: 'started', second: 'created', third: 'created' });
  });

  it('counts down the remaining steps as steps complete', async () => {
    const run = await startRun(db, 'chain', {});
    const only = { runId: run.run_id };
    const remaining: number[] = [(await runRow(db, run.run_id)).remaining_steps];
    for (const step of ['first', 'second', 'third']) {
      await pollOne(db, 'chain', step, only);
      await completeTask(db, run.run_id, step, 0, step);
      remaining.push((await runRow(db, run.run_id)).remaining_steps);
    }
    expect(remaining).toEqual([3, 2, 1, 0]);
  });

  it('stores the output on the task and the step, and marks them completed', async () => {
    const run = await startRun(db, 'chain', {});
    await pollOne(db, 'chain', 'first', { runId: run.run_id });
    await completeTask(db, run.run_id, 'first', 0, { kept: ['a', 1] });
    const task = await stepTask(db, run.run_id, 'first');
    const state = await stepState(db, run.run_id, 'first');
    expect(task).toMatchObject({ status: 'completed', output: { kept: ['a', 1] } });
    expect(task.completed_at).toBeInstanceOf(Date);
    expect(state).toMatchObject({ status: 'completed', output: { kept: ['a', 1] }, remaining_tasks: 0 });
    expect(state.completed_at).toBeInstanceOf(Date);
    expect(await stepState(db, run.run_id, 'second')).toMatchObject({ status: 'started', remaining_deps: 0 });
  });

  it('archives the message of a completed task', async () => {
    const run = await startRun(db, 'chain', {});
    await pollOne(db, 'chain', 'first', { runId: run.run_id });
    await completeTask(db, run.run_id, 'first', 0, 1);
    const left = (await queueMessages(db, 'chain', run.run_id)).map((m) => m.message.step_slug);
    expect(left).toEqual(['second']);
  });

  it('completes the run with completed_at after started_at and no failed_at', async () => {
    const run = await startRun(db, 'chain', {});
    await drain(db, 'chain', (t) => t.step_slug, { runId: run.run_id });
    const done = await runRow(db, run.run_id);
    expect(done).toMatchObject({ status: 'completed', failed_at: null, output: { third: 'third' } });
    expect((done.completed_at as Date).getTime()).toBeGreaterThanOrEqual(done.started_at.getTime());
  });
});

describe('diamond', () => {
  beforeAll(async () => {
    await defineFlow(db, 'two_roots', [{ slug: 'left' }, { slug: 'right' }, { slug: 'join', deps: ['left', 'right'] }]);
    await defineFlow(db, 'diamond', [
      { slug: 'top' },
      { slug: 'west', deps: ['top'] },
      { slug: 'east', deps: ['top'] },
      { slug: 'bottom', deps: ['west', 'east'] },
    ]);
  });

  it('starts both roots at once', async () => {
    const run = await startRun(db, 'two_roots', {});
    const tasks = await pollTasks(db, 'two_roots', { runId: run.run_id });
    expect(tasks.map((t) => t.step_slug)).toEqual(['left', 'right']);
  });

  it('keeps the fan-in step waiting until its last dependency completes', async () => {
    const run = await startRun(db, 'two_roots', {});
    await pollTasks(db, 'two_roots', { runId: run.run_id });
    await completeTask(db, run.run_id, 'left', 0, 'L');
    expect(await stepState(db, run.run_id, 'join')).toMatchObject({ status: 'created', remaining_deps: 1 });
    expect(await pollTasks(db, 'two_roots', { runId: run.run_id })).toEqual([]);
    await completeTask(db, run.run_id, 'right', 0, 'R');
    expect(await stepState(db, run.run_id, 'join')).toMatchObject({ status: 'started', remaining_deps: 0 });
  });

  it('merges the outputs of both dependencies into the fan-in input, keyed by slug', async () => {
    const run = await startRun(db, 'two_roots', {});
    await pollTasks(db, 'two_roots', { runId: run.run_id });
    await completeTask(db, run.run_id, 'right', 0, { r: true });
    await completeTask(db, run.run_id, 'left', 0, ['l']);
    const join = await pollOne(db, 'two_roots', 'join', { runId: run.run_id });
    expect(join.input).toEqual({ left: ['l'], right: { r: true } });
  });

  it('runs a diamond to completion with the bottom output as the run output', async () => {
    const run = await startRun(db, 'diamond', { v: 1 });
    const handled = await drain(db, 'diamond', (t) => ({ from: t.step_slug, saw: t.input }), { runId: run.run_id });
    expect(handled.map((t) => t.step_slug)).toEqual(['top', 'east', 'west', 'bottom']);
    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      output: {
        bottom: {
          from: 'bottom',
          saw: {
            west: { from: 'west', saw: { top: { from: 'top', saw: {} } } },
            east: { from: 'east', saw: { top: { from: 'top', saw: {} } } },
          },
        },
      },
    });
  });
});

describe('flow slugs at the edges of the queue name rules', () => {
  it.each([
    ['a mixed-case slug', 'MixedCase_Flow'],
    ['a slug of 47 characters', `long_${'x'.repeat(42)}`],
  ])('a flow with %s runs end to end', async (_label, slug) => {
    await defineFlow(db, slug, [
      { slug: 'each', type: 'map' },
      { slug: 'done', deps: ['each'] },
    ]);
    const run = await startRun(db, slug, [1, 2]);
    await drain(db, slug, (t) => (t.step_slug === 'each' ? (t.input as number) * 10 : t.input));
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { done: { each: [10, 20] } } });
    expect(await queueMessages(db, slug, run.run_id)).toEqual([]);
  });
});

describe('run output', () => {
  it('holds one key per leaf step, and none for the steps others depend on', async () => {
    await defineFlow(db, 'two_leaves', [
      { slug: 'root' },
      { slug: 'leaf_a', deps: ['root'] },
      { slug: 'leaf_b', deps: ['root'] },
    ]);
    const run = await startRun(db, 'two_leaves', {});
    await drain(db, 'two_leaves', (t) => `out of ${t.step_slug}`);
    expect((await runRow(db, run.run_id)).output).toEqual({ leaf_a: 'out of leaf_a', leaf_b: 'out of leaf_b' });
  });

  it('maybe_complete_run leaves a run with remaining steps started', async () => {
    await defineFlow(db, 'not_done', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    const run = await startRun(db, 'not_done', {});
    await pollOne(db, 'not_done', 'a');
    await completeTask(db, run.run_id, 'a', 0, 1);
    await db.query('select pgflow.maybe_complete_run(run_id => $1::uuid)', [run.run_id]);
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'started', remaining_steps: 1, output: null });
  });
});

describe('falsy outputs', () => {
  beforeAll(async () => {
    await defineFlow(db, 'falsy', [{ slug: 'produce' }, { slug: 'consume', deps: ['produce'] }]);
  });

  it.each([
    ['0', 0],
    ['false', false],
    ['""', ''],
    ['null', null],
    ['[]', []],
    ['{}', {}],
  ])('an output of %s is stored as itself on the task, the step and the run, and passed on', async (text, value) => {
    const run = await startRun(db, 'falsy', {});
    const only = { runId: run.run_id };
    await pollOne(db, 'falsy', 'produce', only);
    await completeTask(db, run.run_id, 'produce', 0, value);

    const consume = await pollOne(db, 'falsy', 'consume', only);
    expect(consume.input).toEqual({ produce: value });
    await completeTask(db, run.run_id, 'consume', 0, value);

    const [task] = await db.query<{ output: string | null }>(
      `select output::text as output from pgflow.step_tasks where run_id = $1 and step_slug = 'produce'`,
      [run.run_id],
    );
    expect(task?.output).toBe(text);
    expect((await stepState(db, run.run_id, 'produce')).output_text).toBe(text);
    expect((await stepState(db, run.run_id, 'consume')).output_text).toBe(text);
    expect(await runOutputText(db, run.run_id)).toBe(`{"consume": ${text}}`);
  });
});
