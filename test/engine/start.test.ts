/**
 * Starting runs (start_flow, start_ready_steps) and starting tasks (start_tasks): what is created,
 * what is sent, what a worker receives.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  failTask,
  pollOne,
  pollTasks,
  queueMessages,
  readMessages,
  registerWorker,
  runRow,
  secondsFromNow,
  startRun,
  startTasks,
  stepState,
  stepStates,
  stepTask,
  stepTasks,
  taskMessage,
} from './support/engine-driver.ts';
import { databaseClock, expectVisibleAfter } from './support/visibility.ts';

const db = useTestDatabase();

beforeAll(async () => {
  await defineFlow(db, 'shop', [
    { slug: 'fetch' },
    { slug: 'price' },
    { slug: 'items', deps: ['fetch'] },
    { slug: 'each_item', deps: ['items'], type: 'map' },
    { slug: 'report', deps: ['price', 'each_item'] },
  ]);
  await defineFlow(db, 'fan', [
    { slug: 'each', type: 'map' },
    { slug: 'sum', deps: ['each'] },
  ]);
});

describe('start_flow', () => {
  it('creates a started run holding the input, with one remaining step per step', async () => {
    const run = await startRun(db, 'shop', { order: 7 });
    expect(run).toMatchObject({ flow_slug: 'shop', status: 'started', input: { order: 7 }, remaining_steps: 5 });
    expect(run.started_at).toBeInstanceOf(Date);
    expect(run.completed_at).toBeNull();
    expect(run.failed_at).toBeNull();
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'started', remaining_steps: 5 });
  });

  it('uses the run_id chosen by the caller', async () => {
    const runId = randomUUID();
    const run = await startRun(db, 'shop', {}, runId);
    expect(run.run_id).toBe(runId);
    expect(await runRow(db, runId)).toMatchObject({ flow_slug: 'shop' });
  });

  it('creates one step state per step, waiting on as many steps as it depends on', async () => {
    const run = await startRun(db, 'shop', {});
    const states = await stepStates(db, run.run_id);
    const picture = Object.fromEntries(
      Object.values(states).map((s) => [s.step_slug, [s.status, s.remaining_deps, s.initial_tasks, s.remaining_tasks]]),
    );
    expect(picture).toEqual({
      fetch: ['started', 0, 1, 1],
      price: ['started', 0, 1, 1],
      items: ['created', 1, 1, null],
      each_item: ['created', 1, null, null],
      report: ['created', 2, 1, null],
    });
    expect(states.fetch?.started_at).toBeInstanceOf(Date);
    expect(states.items?.started_at).toBeNull();
  });

  it('sizes a root map step by the input array', async () => {
    const run = await startRun(db, 'fan', [10, 20, 30]);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'started',
      initial_tasks: 3,
      remaining_tasks: 3,
    });
    expect(await stepState(db, run.run_id, 'sum')).toMatchObject({ status: 'created', initial_tasks: 1 });
  });

  it('sends one message per task of each ready step, with the task address as body', async () => {
    const run = await startRun(db, 'shop', {});
    const messages = await queueMessages(db, 'shop', run.run_id);
    expect(messages.map((m) => m.message).sort((a, b) => a.step_slug.localeCompare(b.step_slug))).toEqual([
      { flow_slug: 'shop', run_id: run.run_id, step_slug: 'fetch', task_index: 0 },
      { flow_slug: 'shop', run_id: run.run_id, step_slug: 'price', task_index: 0 },
    ]);
    for (const m of messages) expect(m.visible_in).toBeLessThanOrEqual(0.5);
  });

  it('records each task as queued with the id of its message', async () => {
    const run = await startRun(db, 'fan', ['x', 'y']);
    const tasks = await stepTasks(db, run.run_id);
    const messages = await queueMessages(db, 'fan', run.run_id);
    expect(tasks.map((t) => [t.step_slug, t.task_index, t.status, t.attempts_count])).toEqual([
      ['each', 0, 'queued', 0],
      ['each', 1, 'queued', 0],
    ]);
    const byIndex = new Map(messages.map((m) => [m.message.task_index, m.msg_id]));
    expect(tasks.map((t) => t.message_id)).toEqual([byIndex.get(0), byIndex.get(1)]);
    expect(tasks.every((t) => t.queued_at instanceof Date && t.started_at === null)).toBe(true);
  });

  it("delays a step's messages by its start delay", async () => {
    await defineFlow(db, 'delayed', [{ slug: 'later', startDelay: 40 }, { slug: 'now' }]);
    const since = await databaseClock(db);
    const run = await startRun(db, 'delayed', {});
    const later = await taskMessage(db, 'delayed', run.run_id, 'later');
    const now = await taskMessage(db, 'delayed', run.run_id, 'now');
    await expectVisibleAfter(db, 'delayed', later?.msg_id as string, since, 40);
    expect(now?.visible_in).toBeLessThanOrEqual(0.5);
    expect(await stepState(db, run.run_id, 'later')).toMatchObject({ status: 'started' });
    expect((await pollTasks(db, 'delayed')).map((t) => t.step_slug)).toEqual(['now']);
  });

  it('start_ready_steps does not start a started step again', async () => {
    const run = await startRun(db, 'shop', {});
    await db.query('select pgflow.start_ready_steps(run_id => $1::uuid)', [run.run_id]);
    expect(await queueMessages(db, 'shop', run.run_id)).toHaveLength(2);
    expect(await stepTasks(db, run.run_id)).toHaveLength(2);
  });
});

describe('start_tasks', () => {
  it('gives a root single step an empty object as input and the run input as flow_input', async () => {
    await defineFlow(db, 'root_input', [{ slug: 'only' }]);
    const run = await startRun(db, 'root_input', { user: 'ada', n: 3 });
    const task = await pollOne(db, 'root_input', 'only');
    expect(task).toMatchObject({
      flow_slug: 'root_input',
      run_id: run.run_id,
      step_slug: 'only',
      task_index: 0,
      input: {},
      flow_input: { user: 'ada', n: 3 },
    });
  });

  it('gives a dependent single step the outputs of its dependencies keyed by slug', async () => {
    await defineFlow(db, 'merge_input', [
      { slug: 'left' },
      { slug: 'right' },
      { slug: 'join', deps: ['left', 'right'] },
    ]);
    const run = await startRun(db, 'merge_input', { seed: 1 });
    await pollTasks(db, 'merge_input');
    await completeTask(db, run.run_id, 'left', 0, { l: 1 });
    await completeTask(db, run.run_id, 'right', 0, [2, 3]);
    const join = await pollOne(db, 'merge_input', 'join');
    expect(join.input).toEqual({ left: { l: 1 }, right: [2, 3] });
    expect(join.flow_input).toEqual({ seed: 1 });
  });

  it('gives each task of a root map step its element of the run input', async () => {
    const run = await startRun(db, 'fan', [{ a: 1 }, 'two', 3, null]);
    const tasks = await pollTasks(db, 'fan', { runId: run.run_id });
    expect(tasks.map((t) => [t.task_index, t.input])).toEqual([
      [0, { a: 1 }],
      [1, 'two'],
      [2, 3],
      [3, null],
    ]);
    expect(tasks.every((t) => t.run_id === run.run_id)).toBe(true);
  });

  it("gives each task of a dependent map step its element of the dependency's output", async () => {
    const run = await startRun(db, 'shop', {});
    const onlyThisRun = { runId: run.run_id };
    await pollTasks(db, 'shop', onlyThisRun);
    await completeTask(db, run.run_id, 'fetch', 0, { page: 1 });
    await pollOne(db, 'shop', 'items', onlyThisRun);
    await completeTask(db, run.run_id, 'items', 0, ['pen', 'ink']);
    const tasks = await pollTasks(db, 'shop', onlyThisRun);
    expect(tasks.map((t) => [t.step_slug, t.task_index, t.input])).toEqual([
      ['each_item', 0, 'pen'],
      ['each_item', 1, 'ink'],
    ]);
  });

  it('starts the task: status started, one more attempt, the worker recorded', async () => {
    await defineFlow(db, 'claim', [{ slug: 'only' }]);
    const run = await startRun(db, 'claim', {});
    const worker = await registerWorker(db, 'claim');
    await pollTasks(db, 'claim', { workerId: worker });
    const task = await stepTask(db, run.run_id, 'only');
    expect(task).toMatchObject({ status: 'started', attempts_count: 1, last_worker_id: worker });
    expect(task.started_at).toBeInstanceOf(Date);
    expect(await stepState(db, run.run_id, 'only')).toMatchObject({ status: 'started', remaining_tasks: 1 });
  });

  it("pushes the message's visibility to the step's timeout plus 2 seconds", async () => {
    await defineFlow(db, 'step_timeout', [{ slug: 'quick', timeout: 17 }, { slug: 'default' }], { timeout: 45 });
    const run = await startRun(db, 'step_timeout', {});
    const since = await databaseClock(db);
    await pollTasks(db, 'step_timeout');
    const quick = await taskMessage(db, 'step_timeout', run.run_id, 'quick');
    const fallback = await taskMessage(db, 'step_timeout', run.run_id, 'default');
    await expectVisibleAfter(db, 'step_timeout', quick?.msg_id as string, since, 19);
    await expectVisibleAfter(db, 'step_timeout', fallback?.msg_id as string, since, 47);
  });

  it('ignores a message id that matches no task', async () => {
    await defineFlow(db, 'ignore_unknown', [{ slug: 'only' }]);
    await startRun(db, 'ignore_unknown', {});
    expect(await startTasks(db, 'ignore_unknown', ['987654321'])).toEqual([]);
  });

  it('ignores a second delivery of a task that is already started', async () => {
    await defineFlow(db, 'ignore_started', [{ slug: 'only' }]);
    const run = await startRun(db, 'ignore_started', {});
    const first = await pollOne(db, 'ignore_started', 'only');
    const before = await stepTask(db, run.run_id, 'only');
    expect(await startTasks(db, 'ignore_started', [first.msg_id])).toEqual([]);
    expect(await stepTask(db, run.run_id, 'only')).toEqual(before);
  });

  it('ignores the message of a completed task', async () => {
    await defineFlow(db, 'ignore_completed', [{ slug: 'only' }, { slug: 'next', deps: ['only'] }]);
    const run = await startRun(db, 'ignore_completed', {});
    const task = await pollOne(db, 'ignore_completed', 'only');
    await completeTask(db, run.run_id, 'only', 0, 1);
    expect(await startTasks(db, 'ignore_completed', [task.msg_id])).toEqual([]);
    expect(await stepTask(db, run.run_id, 'only')).toMatchObject({ status: 'completed', attempts_count: 1 });
  });

  it('ignores the messages of a run that has failed', async () => {
    await defineFlow(db, 'ignore_failed', [{ slug: 'bad', maxAttempts: 1 }, { slug: 'other' }]);
    const run = await startRun(db, 'ignore_failed', {});
    const messages = await readMessages(db, 'ignore_failed');
    const bad = messages.find((m) => m.message.step_slug === 'bad');
    const other = messages.find((m) => m.message.step_slug === 'other');
    await startTasks(db, 'ignore_failed', [bad?.msg_id ?? '0']);
    await failTask(db, run.run_id, 'bad', 0, 'broken');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'failed' });
    expect(await startTasks(db, 'ignore_failed', [other?.msg_id ?? '0'])).toEqual([]);
    expect(await stepTask(db, run.run_id, 'other')).toMatchObject({ status: 'queued', attempts_count: 0 });
  });

  it('starts the tasks of several runs in one call', async () => {
    await defineFlow(db, 'many_runs', [{ slug: 'only' }]);
    const a = await startRun(db, 'many_runs', { n: 1 });
    const b = await startRun(db, 'many_runs', { n: 2 });
    const tasks = await pollTasks(db, 'many_runs');
    expect(tasks.map((t) => [t.run_id, t.flow_input]).sort()).toEqual(
      [
        [a.run_id, { n: 1 }],
        [b.run_id, { n: 2 }],
      ].sort(),
    );
    expect(await secondsFromNow(db, (await stepTask(db, a.run_id, 'only')).started_at as Date)).toBeLessThan(1);
  });
});
