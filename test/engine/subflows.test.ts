/**
 * Subflows in the engine: a worker reports a subflow step's task with pgflow._start_child_run (the
 * child run's input) instead of complete_task; the task then waits, started, with its message
 * hidden, until the child run ends: its output completes the task, its failure or cancellation fails
 * the attempt (a retry starts a new child when the worker reports again). Cancelling the parent
 * cancels its children; a report of a stale attempt starts nothing; the stalled sweep passes a
 * waiting task by.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  drain,
  failTask,
  json,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  startRun,
  stepTask,
  stepTasks,
} from './support/engine-driver.ts';
import { eventNames, listenToRun } from './support/engine-events.ts';

const db = useTestDatabase();

interface StartResult {
  started: boolean;
  child_run_id: string | null;
  error?: string;
}

async function startChild(
  parent: { run_id: string; step_slug: string; task_index: number },
  attempt: number,
  childFlow: string,
  input: unknown,
): Promise<StartResult> {
  const [row] = await db.query<{ result: StartResult }>(
    'select pgflow._start_child_run($1::uuid, $2, $3, $4, $5, $6::jsonb) as result',
    [parent.run_id, parent.step_slug, parent.task_index, attempt, childFlow, json(input)],
  );
  return row?.result as StartResult;
}

let flows = 0;
/** A parent flow `prepare` → `delegate` (subflow step) → `finish`, and a two-step child flow. */
async function flowPair(options: { maxAttempts?: number; map?: boolean } = {}) {
  const n = ++flows;
  const parent = `parent_${n}`;
  const child = `child_${n}`;
  await defineFlow(db, child, [{ slug: 'double' }, { slug: 'report', deps: ['double'] }], { baseDelay: 0 });
  await defineFlow(
    db,
    parent,
    [
      { slug: 'prepare' },
      {
        slug: 'delegate',
        deps: ['prepare'],
        type: options.map ? 'map' : 'single',
        maxAttempts: options.maxAttempts ?? 1,
      },
      { slug: 'finish', deps: ['delegate'] },
    ],
    { baseDelay: 0 },
  );
  return { parent, child };
}

/** Runs the child flow's queue: `double` doubles input.x, `report` says it; `fail` fails `double` instead. */
async function runChildren(child: string, options: { fail?: boolean } = {}) {
  for (;;) {
    const tasks = await pollTasks(db, child);
    if (tasks.length === 0) return;
    for (const task of tasks) {
      if (task.step_slug === 'double' && options.fail) {
        await failTask(db, task.run_id, 'double', task.task_index, 'no doubling today');
      } else if (task.step_slug === 'double') {
        await completeTask(db, task.run_id, 'double', 0, (task.flow_input as { x: number }).x * 2);
      } else {
        await completeTask(db, task.run_id, 'report', 0, { doubled: (task.input as { double: number }).double });
      }
    }
  }
}

/** A parent run whose `delegate` task is started (attempt 1), not yet reported. */
async function delegating(options: { maxAttempts?: number } = {}) {
  const pair = await flowPair(options);
  const run = await startRun(db, pair.parent, { x: 21 });
  await pollOne(db, pair.parent, 'prepare');
  await completeTask(db, run.run_id, 'prepare', 0, 'ready');
  const task = await pollOne(db, pair.parent, 'delegate');
  return { ...pair, runId: run.run_id, task };
}

describe('subflows', () => {
  it('a completed child run completes the parent task with its output, and the parent goes on', async () => {
    const { parent, child, runId, task } = await delegating();
    const events = await listenToRun(db, runId);
    const started = await startChild(task, 1, child, { x: 21 });
    expect(started.started).toBe(true);
    const childRun = await runRow(db, started.child_run_id as string);
    expect(childRun).toMatchObject({
      flow_slug: child,
      status: 'started',
      parent_run_id: runId,
      parent_step_slug: 'delegate',
      parent_task_index: 0,
    });
    const waiting = await stepTask(db, runId, 'delegate');
    expect(waiting).toMatchObject({ status: 'started', child_run_id: started.child_run_id });
    // Its message is hidden while the child runs: no worker gets it again.
    expect(await pollTasks(db, parent)).toEqual([]);

    await runChildren(child);
    expect((await runRow(db, started.child_run_id as string)).status).toBe('completed');
    expect(await stepTask(db, runId, 'delegate')).toMatchObject({
      status: 'completed',
      output: { report: { doubled: 42 } },
      child_run_id: null,
    });
    const finish = await pollOne(db, parent, 'finish');
    expect(finish.input).toEqual({ delegate: { report: { doubled: 42 } } });
    await events.settle();
    expect(eventNames(events.events())).toContain('task:waiting_for_child');
    expect(events.events().find((e) => e.event_type === 'task:waiting_for_child')).toMatchObject({
      step_slug: 'delegate',
      child_run_id: started.child_run_id,
      child_flow_slug: child,
    });
  });

  it('a failed child run fails the attempt; the retry starts a new child run', async () => {
    const { parent, child, runId, task } = await delegating({ maxAttempts: 2 });
    const first = await startChild(task, 1, child, { x: 1 });
    await runChildren(child, { fail: true });
    expect((await runRow(db, first.child_run_id as string)).status).toBe('failed');
    const retried = await stepTask(db, runId, 'delegate');
    expect(retried).toMatchObject({ status: 'queued', child_run_id: null, attempts_count: 1 });
    expect(retried.error_message).toContain(`Child run ${first.child_run_id} of flow '${child}' failed`);
    expect(retried.error_message).toContain('no doubling today');

    const again = await pollOne(db, parent, 'delegate');
    const second = await startChild(again, 2, child, { x: 5 });
    expect(second.started).toBe(true);
    expect(second.child_run_id).not.toBe(first.child_run_id);
    await runChildren(child);
    expect(await stepTask(db, runId, 'delegate')).toMatchObject({
      status: 'completed',
      output: { report: { doubled: 10 } },
    });
  });

  it('a failed child run on the last attempt fails the parent step and run', async () => {
    const { child, runId, task } = await delegating({ maxAttempts: 1 });
    await startChild(task, 1, child, { x: 1 });
    await runChildren(child, { fail: true });
    expect((await runRow(db, runId)).status).toBe('failed');
    expect((await stepTask(db, runId, 'delegate')).status).toBe('failed');
  });

  it('a report of another attempt than the running one starts no child', async () => {
    const { child, runId, task } = await delegating();
    expect(await startChild(task, 2, child, { x: 1 })).toMatchObject({ started: false, child_run_id: null });
    const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.runs where flow_slug = $1', [
      child,
    ]);
    expect(row?.n).toBe(0);
    expect(await stepTask(db, runId, 'delegate')).toMatchObject({ status: 'started', child_run_id: null });
  });

  it('a repeated report of the same attempt returns the child it started', async () => {
    const { child, task } = await delegating();
    const first = await startChild(task, 1, child, { x: 1 });
    const second = await startChild(task, 1, child, { x: 1 });
    expect(second).toMatchObject({ started: false, child_run_id: first.child_run_id });
  });

  it('a child input the child flow refuses fails the attempt without a retry', async () => {
    const { runId, task } = await delegating({ maxAttempts: 3 });
    const result = await startChild(task, 1, 'no_such_flow', { x: 1 });
    expect(result.started).toBe(false);
    expect(result.error).toContain('no_such_flow');
    expect((await stepTask(db, runId, 'delegate')).status).toBe('failed');
    expect((await runRow(db, runId)).status).toBe('failed');
  });

  it('cancelling the parent run cancels its child runs, transitively', async () => {
    const { child, runId, task } = await delegating();
    const started = await startChild(task, 1, child, { x: 1 });
    await db.query('select pgflow.cancel_run($1::uuid, $2)', [runId, 'changed my mind']);
    const childRun = await runRow(db, started.child_run_id as string);
    expect(childRun.status).toBe('cancelled');
    expect((childRun as { cancel_reason?: string }).cancel_reason).toContain(runId);
    expect(await queueMessages(db, child, started.child_run_id as string)).toEqual([]);
    expect((await runRow(db, runId)).status).toBe('cancelled');
  });

  it('cancelling a child run fails the attempt of its parent task', async () => {
    const { child, runId, task } = await delegating({ maxAttempts: 1 });
    const started = await startChild(task, 1, child, { x: 1 });
    await db.query('select pgflow.cancel_run($1::uuid, $2)', [started.child_run_id, 'not needed']);
    const parentTask = await stepTask(db, runId, 'delegate');
    expect(parentTask.status).toBe('failed');
    expect(parentTask.error_message).toContain('was cancelled: not needed');
  });

  it('the stalled sweep passes a task waiting for its child by', async () => {
    const { child, runId, task } = await delegating();
    const started = await startChild(task, 1, child, { x: 1 });
    // Started long ago, by a worker declared dead since: either would requeue a task in flight.
    await db.query(
      `update pgflow.step_tasks set started_at = started_at - interval '1 day'
        where run_id = $1 and step_slug = 'delegate'`,
      [runId],
    );
    await db.query(`update pgflow.workers set stop_reason = 'declared_dead', stopped_at = now()`);
    await db.query('select pgflow.requeue_stalled_tasks()');
    expect(await stepTask(db, runId, 'delegate')).toMatchObject({
      status: 'started',
      requeued_count: 0,
      child_run_id: started.child_run_id,
    });
    await runChildren(child);
    expect((await stepTask(db, runId, 'delegate')).status).toBe('completed');
  });

  it('a map step starts one child per element; its output is the children outputs in element order', async () => {
    const { parent, child } = await flowPair({ map: true });
    const run = await startRun(db, parent, null);
    await pollOne(db, parent, 'prepare');
    await completeTask(db, run.run_id, 'prepare', 0, [1, 2, 3, 4]);
    const tasks = await pollTasks(db, parent);
    expect(tasks.map((t) => t.task_index)).toEqual([0, 1, 2, 3]);
    // Started in reverse order, so that element order cannot come from start order.
    for (const task of [...tasks].reverse()) {
      await startChild(task, 1, child, { x: task.input });
    }
    await runChildren(child);
    const [state] = await db.query<{ output: unknown }>(
      `select output from pgflow.step_states where run_id = $1 and step_slug = 'delegate'`,
      [run.run_id],
    );
    expect(state?.output).toEqual([2, 4, 6, 8].map((doubled) => ({ report: { doubled } })));
    const children = await db.query<{ parent_task_index: number }>(
      'select parent_task_index from pgflow.runs where parent_run_id = $1 order by parent_task_index',
      [run.run_id],
    );
    expect(children.map((c) => c.parent_task_index)).toEqual([0, 1, 2, 3]);
    expect((await stepTasks(db, run.run_id, 'delegate')).every((t) => t.status === 'completed')).toBe(true);
    await drain(db, parent, () => 'done');
    expect((await runRow(db, run.run_id)).status).toBe('completed');
  });

  it('refuses a parent link that is only half set (CHECK)', async () => {
    const { parent } = await flowPair();
    const run = await startRun(db, parent, null);
    await expect(
      db.query(`update pgflow.runs set parent_step_slug = 'x' where run_id = $1`, [run.run_id]),
    ).rejects.toThrow(/runs_parent_all_or_none/);
  });
});
