/**
 * requeue_stalled_tasks: a task started longer ago than its step's effective timeout + 30 s goes
 * back to the queue, up to 3 times; then it is permanently stalled and fails like an exhausted task.
 * The passing of time is simulated by moving the task's timestamps into the past.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  defineFlow,
  onClient,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  type StepSpec,
  startRun,
  stepState,
  stepTask,
  stepTasks,
  taskMessage,
} from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(steps: readonly StepSpec[], options: { timeout?: number; maxAttempts?: number } = {}) {
  const slug = `stall_${++flows}`;
  await defineFlow(db, slug, steps, options);
  return slug;
}

/** Moves a started task's timestamps `seconds` into the past, as if it had been running that long. */
async function age(runId: string, stepSlug: string, seconds: number, taskIndex?: number): Promise<void> {
  const rows = await db.query(
    `update pgflow.step_tasks
        set queued_at = queued_at - make_interval(secs => $3),
            started_at = started_at - make_interval(secs => $3)
      where run_id = $1 and step_slug = $2 and ($4::int is null or task_index = $4) and status = 'started'
      returning task_index`,
    [runId, stepSlug, seconds, taskIndex ?? null],
  );
  if (rows.length === 0) throw new Error(`no started task of ${stepSlug} to age`);
}

// requeue_stalled_tasks looks at every run: finish what a test left started, so that no task of an
// earlier test becomes stalled while a later one counts.
afterEach(async () => {
  await db.query(
    `select pgflow.complete_task(run_id => t.run_id, step_slug => t.step_slug, task_index => t.task_index,
                                 output => '"cleanup"'::jsonb)
       from pgflow.step_tasks t where t.status = 'started'`,
  );
});

async function requeue(): Promise<number> {
  const [row] = await db.query<{ n: number }>('select pgflow.requeue_stalled_tasks() as n');
  return row?.n as number;
}

describe('requeue_stalled_tasks', () => {
  it('puts a task started longer than its timeout + 30 s back in the queue, visible at once', async () => {
    const slug = await flow([{ slug: 'slow', timeout: 10 }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 45);
    expect(await requeue()).toBe(1);
    const task = await stepTask(db, run.run_id, 'slow');
    expect(task).toMatchObject({ status: 'queued', requeued_count: 1, permanently_stalled_at: null });
    expect(task.last_requeued_at).toBeInstanceOf(Date);
    expect((await taskMessage(db, slug, run.run_id, 'slow'))?.visible_in).toBeLessThanOrEqual(0.5);
    expect((await stepState(db, run.run_id, 'slow')).status).toBe('started');
  });

  it("uses the step's timeout, not the flow's longer one", async () => {
    const slug = await flow([{ slug: 'slow', timeout: 10 }], { timeout: 600 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 45);
    expect(await requeue()).toBe(1);
    expect((await stepTask(db, run.run_id, 'slow')).status).toBe('queued');
  });

  it("uses the step's timeout, not the flow's shorter one", async () => {
    const slug = await flow([{ slug: 'slow', timeout: 600 }], { timeout: 10 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 45);
    expect(await requeue()).toBe(0);
    expect((await stepTask(db, run.run_id, 'slow')).status).toBe('started');
  });

  it("falls back to the flow's timeout when the step has none", async () => {
    const slug = await flow([{ slug: 'slow' }], { timeout: 5 });
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 40);
    expect(await requeue()).toBe(1);
  });

  it('leaves a task alone within its timeout + 30 s', async () => {
    const slug = await flow([{ slug: 'slow', timeout: 10 }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 30);
    expect(await requeue()).toBe(0);
    expect(await stepTask(db, run.run_id, 'slow')).toMatchObject({ status: 'started', requeued_count: 0 });
  });

  it('a requeued task is started again by the next poll, as a new attempt', async () => {
    const slug = await flow([{ slug: 'slow', timeout: 10 }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'slow');
    await age(run.run_id, 'slow', 45);
    await requeue();
    await pollOne(db, slug, 'slow');
    expect(await stepTask(db, run.run_id, 'slow')).toMatchObject({
      status: 'started',
      attempts_count: 2,
      requeued_count: 1,
    });
  });

  it('after 3 requeues the task is permanently stalled and fails the run', async () => {
    const slug = await flow([{ slug: 'stuck', timeout: 10 }, { slug: 'other' }], { maxAttempts: 10 });
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    for (let cycle = 1; cycle <= 3; cycle++) {
      await age(run.run_id, 'stuck', 45);
      expect(await requeue()).toBe(1);
      expect((await stepTask(db, run.run_id, 'stuck')).requeued_count).toBe(cycle);
      await pollOne(db, slug, 'stuck');
    }
    await age(run.run_id, 'stuck', 45);
    await requeue();

    const task = await stepTask(db, run.run_id, 'stuck');
    expect(task.permanently_stalled_at).toBeInstanceOf(Date);
    expect(task).toMatchObject({ status: 'failed', requeued_count: 3 });
    expect((await stepState(db, run.run_id, 'stuck')).status).toBe('failed');
    const failed = await runRow(db, run.run_id);
    expect(failed.status).toBe('failed');
    expect(failed.failed_at).toBeInstanceOf(Date);
    expect(await pollTasks(db, slug)).toEqual([]);
  });

  it("a permanently stalled task's message leaves the queue", async () => {
    const slug = await flow([
      { slug: 'stuck', timeout: 10, whenExhausted: 'skip' },
      { slug: 'later', deps: ['stuck'] },
    ]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'stuck');
    for (let cycle = 1; cycle <= 3; cycle++) {
      await age(run.run_id, 'stuck', 45);
      await requeue();
      await pollOne(db, slug, 'stuck');
    }
    await age(run.run_id, 'stuck', 45);
    await requeue();
    const left = (await queueMessages(db, slug, run.run_id)).map((m) => m.message.step_slug);
    expect(left).toEqual(['later']);
  });

  it("a permanently stalled task follows its step's when_exhausted: skip lets the run complete", async () => {
    const slug = await flow([{ slug: 'stuck', timeout: 10, whenExhausted: 'skip' }]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'stuck');
    for (let cycle = 1; cycle <= 3; cycle++) {
      await age(run.run_id, 'stuck', 45);
      await requeue();
      await pollOne(db, slug, 'stuck');
    }
    await age(run.run_id, 'stuck', 45);
    await requeue();
    expect(await stepState(db, run.run_id, 'stuck')).toMatchObject({
      status: 'skipped',
      skip_reason: 'handler_failed',
    });
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: {} });
  });

  it('never requeues a task that is only queued', async () => {
    const slug = await flow([{ slug: 'waiting', timeout: 10 }]);
    const run = await startRun(db, slug, {});
    await db.query(`update pgflow.step_tasks set queued_at = queued_at - interval '1 hour' where run_id = $1`, [
      run.run_id,
    ]);
    expect(await requeue()).toBe(0);
    expect(await stepTask(db, run.run_id, 'waiting')).toMatchObject({ status: 'queued', requeued_count: 0 });
  });

  it('never requeues the started task of a failed run', async () => {
    const slug = await flow([
      { slug: 'doomed', maxAttempts: 1 },
      { slug: 'slow', timeout: 10 },
    ]);
    const run = await startRun(db, slug, {});
    await pollTasks(db, slug);
    await db.query(
      `select pgflow.fail_task(run_id => $1::uuid, step_slug => 'doomed', task_index => 0, error_message => 'x')`,
      [run.run_id],
    );
    await age(run.run_id, 'slow', 45);
    expect(await requeue()).toBe(0);
    expect(await stepTask(db, run.run_id, 'slow')).toMatchObject({ status: 'started', requeued_count: 0 });
  });

  it('several callers at once requeue each stalled task exactly once', async () => {
    const slug = await flow([{ slug: 'each', type: 'map', timeout: 10 }]);
    const run = await startRun(db, slug, [1, 2, 3, 4, 5, 6, 7, 8]);
    await pollTasks(db, slug);
    await age(run.run_id, 'each', 45);
    const callers = await Promise.all([1, 2, 3, 4].map(() => db.connect('stalled caller')));
    const counts = await Promise.all(
      callers.map(async (client) => {
        const [row] = await onClient(client).query<{ n: number }>('select pgflow.requeue_stalled_tasks() as n');
        return row?.n as number;
      }),
    );
    await Promise.all(callers.map((client) => client.end()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8);
    const tasks = await stepTasks(db, run.run_id, 'each');
    expect(tasks.map((t) => `${t.status}/${t.requeued_count}`)).toEqual(Array(8).fill('queued/1'));
  });
});
