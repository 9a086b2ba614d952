/**
 * pgflow.limits: what one call may ask of the database, enforced by the engine for every caller.
 * A refused start creates nothing; an output over the limit fails its attempt; an error message
 * over the limit is cut; a map over the limit fails its run; the row cannot be deleted.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTasks,
  defineFlow,
  failTasks,
  flowRowCounts,
  pollOne,
  runRow,
  startRun,
  stepState,
  stepTask,
} from './support/engine-driver.ts';

const db = useTestDatabase();

async function setLimits(limits: Record<string, number>): Promise<void> {
  for (const [column, value] of Object.entries(limits)) {
    await db.query(`update pgflow.limits set ${column} = $1`, [value]);
  }
}

afterEach(async () => {
  await db.query(
    'update pgflow.limits set max_input_bytes = default, max_output_bytes = default, max_map_tasks = default, ' +
      'max_error_message_bytes = default, notify_queue_shed_at = default',
  );
});

describe('pgflow.limits', () => {
  it('has one row with the documented defaults, which cannot be deleted', async () => {
    expect(await db.query('select * from pgflow.limits')).toEqual([
      {
        singleton: true,
        max_input_bytes: 16_777_216,
        max_output_bytes: 16_777_216,
        max_map_tasks: 100_000,
        max_error_message_bytes: 65_536,
        notify_queue_shed_at: 0.5,
      },
    ]);
    await expect(db.query('delete from pgflow.limits')).rejects.toMatchObject({ code: 'PF007' });
    await expect(db.query('truncate pgflow.limits')).rejects.toMatchObject({ code: 'PF007' });
    await expect(db.query('insert into pgflow.limits default values')).rejects.toMatchObject({ code: '23505' });
    await expect(db.query('update pgflow.limits set max_map_tasks = 0')).rejects.toMatchObject({ code: '23514' });
  });

  it('refuses a run input over max_input_bytes, naming the size and the limit, and starts none of the batch', async () => {
    await defineFlow(db, 'big_input', [{ slug: 'only' }]);
    await setLimits({ max_input_bytes: 1000 });
    const big = { text: 'x'.repeat(2000) };
    await expect(startRun(db, 'big_input', big)).rejects.toMatchObject({
      code: 'PF011',
      message: expect.stringMatching(/The input of a run of flow 'big_input' is \d+ bytes: more than the 1000 bytes/),
    });
    await expect(
      db.query(`select * from pgflow.start_flows('big_input', $1::jsonb)`, [JSON.stringify([{ a: 1 }, big])]),
    ).rejects.toMatchObject({ code: 'PF011', message: expect.stringContaining('(input 2 of 2)') });
    expect((await flowRowCounts(db, 'big_input')).runs).toBe(0);
    expect((await startRun(db, 'big_input', { text: 'small' })).status).toBe('started');
  });

  it('refuses a root map over more elements than max_map_tasks', async () => {
    await defineFlow(db, 'wide_root', [{ slug: 'each', type: 'map' }]);
    await setLimits({ max_map_tasks: 10 });
    await expect(
      startRun(
        db,
        'wide_root',
        Array.from({ length: 11 }, (_, i) => i),
      ),
    ).rejects.toMatchObject({
      code: 'PF012',
      message: expect.stringContaining('the input has 11 elements: more than the 10 tasks a map step may have'),
    });
    expect((await flowRowCounts(db, 'wide_root')).runs).toBe(0);
    expect(
      (
        await startRun(
          db,
          'wide_root',
          Array.from({ length: 10 }, (_, i) => i),
        )
      ).status,
    ).toBe('started');
  });

  it('fails the run when a step feeds a map step more elements than max_map_tasks', async () => {
    await defineFlow(db, 'wide_dep', [{ slug: 'list' }, { slug: 'each', type: 'map', deps: ['list'] }]);
    await setLimits({ max_map_tasks: 5 });
    const run = await startRun(db, 'wide_dep', {});
    await pollOne(db, 'wide_dep', 'list');
    await completeTasks(db, [
      { run_id: run.run_id, step_slug: 'list', task_index: 0, output: [1, 2, 3, 4, 5, 6], attempt: 1 },
    ]);
    expect((await runRow(db, run.run_id)).status).toBe('failed');
    expect((await stepState(db, run.run_id, 'list')).error_message).toMatch(
      /^\[MAP_TOO_LARGE\] Step 'list' produced an array of 6 elements, but map step 'each' may have at most 5 tasks/,
    );
  });

  it('fails the attempt of an output over max_output_bytes (retried like any failure), storing nothing', async () => {
    await defineFlow(db, 'big_output', [{ slug: 'only' }], { maxAttempts: 2 });
    await setLimits({ max_output_bytes: 1000 });
    const run = await startRun(db, 'big_output', {});
    await pollOne(db, 'big_output', 'only');
    await completeTasks(db, [
      { run_id: run.run_id, step_slug: 'only', task_index: 0, output: 'x'.repeat(5000), attempt: 1 },
    ]);
    const task = await stepTask(db, run.run_id, 'only');
    expect(task).toMatchObject({ status: 'queued', attempts_count: 1, output: null });
    expect(task.error_message).toMatch(
      /^\[OUTPUT_TOO_LARGE\] The output of step 'only' is \d+ bytes; the limit is 1000/,
    );
    expect((await runRow(db, run.run_id)).status).toBe('started');
  });

  it('cuts an error message over max_error_message_bytes, never inside a character, saying so', async () => {
    await defineFlow(db, 'long_error', [{ slug: 'only' }], { maxAttempts: 1 });
    await setLimits({ max_error_message_bytes: 300 });
    const run = await startRun(db, 'long_error', {});
    await pollOne(db, 'long_error', 'only');
    const message = 'é'.repeat(1000); // 2,000 bytes
    await failTasks(db, [{ run_id: run.run_id, step_slug: 'only', task_index: 0, error_message: message, attempt: 1 }]);
    const stored = (await stepTask(db, run.run_id, 'only')).error_message as string;
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(300);
    expect(stored).toMatch(/^é+ \.\.\. \[truncated: 2000 bytes in all\]$/);
    expect((await stepState(db, run.run_id, 'only')).error_message).toBe(stored);
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });
});
