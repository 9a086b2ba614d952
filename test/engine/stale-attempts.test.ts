/**
 * A result counts only for the attempt it reports (its `attempt`): a worker that lost its task (to a
 * stall sweep, a timeout, a database outage longer than the timeout) and reports late changes
 * nothing, whatever the task's status, while the attempt that runs now decides.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTasks,
  defineFlow,
  failTasks,
  pollOne,
  runRow,
  startRun,
  stepTask,
  type TaskRecord,
} from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;

/** A one-step run whose first attempt (A) was lost to the stall sweep and whose second (B) is running. */
async function secondAttemptRunning(): Promise<{ flowSlug: string; runId: string; a: TaskRecord; b: TaskRecord }> {
  const flowSlug = `stale_${++flows}`;
  await defineFlow(db, flowSlug, [{ slug: 'only' }], { maxAttempts: 2, timeout: 5 });
  const run = await startRun(db, flowSlug, {});
  const a = await pollOne(db, flowSlug, 'only');
  // A's worker goes silent: its task looks stalled (started long ago) and the sweep takes it back.
  await db.query(
    `update pgflow.step_tasks set queued_at = queued_at - interval '1 hour', started_at = started_at - interval '1 hour'
      where run_id = $1`,
    [run.run_id],
  );
  const [{ n }] = (await db.query<{ n: number }>('select pgflow.requeue_stalled_tasks() as n')) as [{ n: number }];
  expect(n).toBe(1);
  const b = await pollOne(db, flowSlug, 'only');
  expect((await stepTask(db, run.run_id, 'only')).attempts_count).toBe(2);
  return { flowSlug, runId: run.run_id, a, b };
}

describe('results of a stale attempt', () => {
  it('a failure reported for attempt 1 while attempt 2 runs fails neither the task nor the run', async () => {
    const { runId } = await secondAttemptRunning();

    // max_attempts is 2, so a failure of the running attempt would be its last: the run would fail.
    expect(
      await failTasks(db, [{ run_id: runId, step_slug: 'only', task_index: 0, error_message: 'late', attempt: 1 }]),
    ).toBe(0);
    const task = await stepTask(db, runId, 'only');
    expect({ status: task.status, attempts: task.attempts_count, error: task.error_message }).toEqual({
      status: 'started',
      attempts: 2,
      error: null,
    });
    expect((await runRow(db, runId)).status).toBe('started');

    // Attempt 2 still decides.
    expect(
      await completeTasks(db, [{ run_id: runId, step_slug: 'only', task_index: 0, output: 'b', attempt: 2 }]),
    ).toBe(1);
    expect(await runRow(db, runId)).toMatchObject({ status: 'completed', output: { only: 'b' } });
  });

  it('a completion reported for attempt 1 while attempt 2 runs changes nothing', async () => {
    const { runId } = await secondAttemptRunning();

    expect(
      await completeTasks(db, [{ run_id: runId, step_slug: 'only', task_index: 0, output: 'a', attempt: 1 }]),
    ).toBe(0);
    expect(await stepTask(db, runId, 'only')).toMatchObject({ status: 'started', attempts_count: 2, output: null });
    expect((await runRow(db, runId)).status).toBe('started');

    expect(
      await failTasks(db, [{ run_id: runId, step_slug: 'only', task_index: 0, error_message: 'b failed', attempt: 2 }]),
    ).toBe(1);
    expect(await runRow(db, runId)).toMatchObject({ status: 'failed' });
    expect((await stepTask(db, runId, 'only')).error_message).toBe('b failed');
  });

  it('complete_task and fail_task take the attempt too, as a named argument', async () => {
    const { runId } = await secondAttemptRunning();
    await db.query(
      `select pgflow.fail_task(run_id => $1, step_slug => 'only', task_index => 0, error_message => 'late', attempt => 1)`,
      [runId],
    );
    await db.query(
      `select pgflow.complete_task(run_id => $1, step_slug => 'only', task_index => 0, output => '"late"', attempt => 1)`,
      [runId],
    );
    expect(await stepTask(db, runId, 'only')).toMatchObject({ status: 'started', attempts_count: 2 });
    await db.query(
      `select pgflow.complete_task(run_id => $1, step_slug => 'only', task_index => 0, output => '"b"', attempt => 2)`,
      [runId],
    );
    expect((await runRow(db, runId)).status).toBe('completed');
  });

  it('a result without an attempt (pgflow’s own calls) counts for the running attempt, as in pgflow', async () => {
    const { runId } = await secondAttemptRunning();
    expect(await completeTasks(db, [{ run_id: runId, step_slug: 'only', task_index: 0, output: 'any' }])).toBe(1);
    expect(await runRow(db, runId)).toMatchObject({ status: 'completed', output: { only: 'any' } });
  });

  it('an attempt that is not a number is refused, naming the entry', async () => {
    const { runId } = await secondAttemptRunning();
    await expect(
      db.query(`select pgflow.complete_tasks($1::jsonb)`, [
        JSON.stringify([{ run_id: runId, step_slug: 'only', task_index: 0, output: 1, attempt: 'two' }]),
      ]),
    ).rejects.toMatchObject({ code: 'PF007', message: expect.stringContaining('Invalid entry in completions') });
    expect(await stepTask(db, runId, 'only')).toMatchObject({ status: 'started', attempts_count: 2 });
  });
});
