/**
 * Map steps: root maps over the run input, dependent maps over a step's array, empty arrays,
 * output order, and the type-violation guard for a single step feeding a map.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  archivedMessages,
  completeTask,
  defineFlow,
  drain,
  pollOne,
  pollTasks,
  queueMessages,
  runRow,
  startRun,
  statuses,
  stepState,
  stepStates,
  stepTask,
  stepTasks,
} from './support/engine-driver.ts';

const db = useTestDatabase();

beforeAll(async () => {
  await defineFlow(db, 'root_map', [{ slug: 'each', type: 'map' }]);
  await defineFlow(db, 'map_then_sum', [
    { slug: 'each', type: 'map' },
    { slug: 'sum', deps: ['each'] },
  ]);
  await defineFlow(db, 'list_then_map', [
    { slug: 'list' },
    { slug: 'each', deps: ['list'], type: 'map' },
    { slug: 'after', deps: ['each'] },
  ]);
});

describe('root map', () => {
  it('creates one task per element of the input array', async () => {
    const run = await startRun(db, 'root_map', ['a', 'b', 'c']);
    const tasks = await pollTasks(db, 'root_map', { runId: run.run_id });
    expect(tasks.map((t) => [t.step_slug, t.task_index, t.input])).toEqual([
      ['each', 0, 'a'],
      ['each', 1, 'b'],
      ['each', 2, 'c'],
    ]);
  });

  it('completes when its last task completes, with the outputs as an array, and completes the run', async () => {
    const run = await startRun(db, 'root_map', [1, 2, 3]);
    await pollTasks(db, 'root_map', { runId: run.run_id });
    await completeTask(db, run.run_id, 'each', 0, 10);
    await completeTask(db, run.run_id, 'each', 1, 20);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'started',
      remaining_tasks: 1,
      output: null,
    });
    await completeTask(db, run.run_id, 'each', 2, 30);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'completed',
      remaining_tasks: 0,
      initial_tasks: 3,
      output: [10, 20, 30],
    });
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { each: [10, 20, 30] } });
  });

  it('orders the outputs by task index whatever the completion order', async () => {
    const run = await startRun(db, 'root_map', [0, 1, 2, 3, 4, 5]);
    await pollTasks(db, 'root_map', { runId: run.run_id });
    for (const index of [3, 5, 0, 4, 1, 2]) await completeTask(db, run.run_id, 'each', index, `out${index}`);
    expect((await stepState(db, run.run_id, 'each')).output).toEqual(['out0', 'out1', 'out2', 'out3', 'out4', 'out5']);
  });

  it('keeps falsy task outputs in place in the aggregated array', async () => {
    const run = await startRun(db, 'root_map', [1, 2, 3, 4]);
    await pollTasks(db, 'root_map', { runId: run.run_id });
    const outputs = [0, false, null, ''];
    for (const index of [2, 0, 3, 1]) await completeTask(db, run.run_id, 'each', index, outputs[index]);
    expect((await stepState(db, run.run_id, 'each')).output_text).toBe('[0, false, null, ""]');
  });

  it('passes the whole array to a single step that depends on it', async () => {
    const run = await startRun(db, 'map_then_sum', [1, 2]);
    const only = { runId: run.run_id };
    await pollTasks(db, 'map_then_sum', only);
    await completeTask(db, run.run_id, 'each', 1, 'two');
    await completeTask(db, run.run_id, 'each', 0, 'one');
    const sum = await pollOne(db, 'map_then_sum', 'sum', only);
    expect(sum.input).toEqual({ each: ['one', 'two'] });
  });
});

describe('dependent map', () => {
  it("learns its size from its dependency's output array and maps over it", async () => {
    const run = await startRun(db, 'list_then_map', {});
    const only = { runId: run.run_id };
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'created', initial_tasks: null });
    await pollOne(db, 'list_then_map', 'list', only);
    await completeTask(db, run.run_id, 'list', 0, [{ id: 1 }, { id: 2 }]);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'started',
      initial_tasks: 2,
      remaining_tasks: 2,
    });
    const tasks = await pollTasks(db, 'list_then_map', only);
    expect(tasks.map((t) => [t.task_index, t.input])).toEqual([
      [0, { id: 1 }],
      [1, { id: 2 }],
    ]);
  });

  it('maps over the output of another map step', async () => {
    await defineFlow(db, 'map_of_map', [
      { slug: 'double', type: 'map' },
      { slug: 'label', deps: ['double'], type: 'map' },
    ]);
    const run = await startRun(db, 'map_of_map', [1, 2, 3]);
    const only = { runId: run.run_id };
    for (const t of await pollTasks(db, 'map_of_map', only)) {
      await completeTask(db, run.run_id, t.step_slug, t.task_index, (t.input as number) * 2);
    }
    expect(await stepState(db, run.run_id, 'label')).toMatchObject({ status: 'started', initial_tasks: 3 });
    const labels = await pollTasks(db, 'map_of_map', only);
    expect(labels.map((t) => [t.step_slug, t.task_index, t.input])).toEqual([
      ['label', 0, 2],
      ['label', 1, 4],
      ['label', 2, 6],
    ]);
    for (const t of labels) await completeTask(db, run.run_id, 'label', t.task_index, `#${t.input}`);
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { label: ['#2', '#4', '#6'] } });
  });
});

describe('empty arrays', () => {
  it('a root map over an empty array completes at once with [] and the run completes', async () => {
    const run = await startRun(db, 'root_map', []);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'completed',
      initial_tasks: 0,
      remaining_tasks: 0,
      output: [],
    });
    expect(await stepTasks(db, run.run_id)).toEqual([]);
    expect(await queueMessages(db, 'root_map', run.run_id)).toEqual([]);
    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      remaining_steps: 0,
      output: { each: [] },
    });
  });

  it('a map depending on an empty map also gets no task and completes with []', async () => {
    await defineFlow(db, 'empty_pair', [
      { slug: 'outer', type: 'map' },
      { slug: 'inner', deps: ['outer'], type: 'map' },
    ]);
    const run = await startRun(db, 'empty_pair', []);
    const states = await stepStates(db, run.run_id);
    expect(states.inner).toMatchObject({ status: 'completed', initial_tasks: 0, output: [] });
    expect(states.outer).toMatchObject({ status: 'completed', output: [] });
    expect(await stepTasks(db, run.run_id)).toEqual([]);
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { inner: [] } });
  });

  it('a single step after an empty map starts with the empty array as input', async () => {
    const run = await startRun(db, 'map_then_sum', []);
    expect(await statuses(db, run.run_id)).toEqual({ each: 'completed', sum: 'started' });
    const sum = await pollOne(db, 'map_then_sum', 'sum', { runId: run.run_id });
    expect(sum.input).toEqual({ each: [] });
  });

  it('a dependent map over an empty output completes with [] when its dependency completes', async () => {
    const run = await startRun(db, 'list_then_map', {});
    const only = { runId: run.run_id };
    await pollOne(db, 'list_then_map', 'list', only);
    await completeTask(db, run.run_id, 'list', 0, []);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({
      status: 'completed',
      initial_tasks: 0,
      output: [],
    });
    expect(await stepTasks(db, run.run_id, 'each')).toEqual([]);
    const after = await pollOne(db, 'list_then_map', 'after', only);
    expect(after.input).toEqual({ each: [] });
  });

  it('a chain of 200 maps over an empty array completes entirely when the run starts', async () => {
    const steps = Array.from({ length: 200 }, (_, i) => ({
      slug: `m${i}`,
      type: 'map' as const,
      deps: i === 0 ? [] : [`m${i - 1}`],
    }));
    await defineFlow(db, 'long_empty_chain', steps);
    const run = await startRun(db, 'long_empty_chain', []);
    const [counts] = await db.query<{ completed: number; total: number }>(
      `select count(*) filter (where status = 'completed' and output = '[]'::jsonb)::int as completed,
              count(*)::int as total
         from pgflow.step_states where run_id = $1`,
      [run.run_id],
    );
    expect(counts).toEqual({ completed: 200, total: 200 });
    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      remaining_steps: 0,
      output: { m199: [] },
    });
  });

  it('cascade_complete_taskless_steps returns 0 when no step is left to complete', async () => {
    const run = await startRun(db, 'root_map', []);
    const [row] = await db.query<{ n: number }>(
      'select pgflow.cascade_complete_taskless_steps(run_id => $1::uuid) as n',
      [run.run_id],
    );
    expect(row?.n).toBe(0);
  });
});

describe('type violation', () => {
  it.each<[string, unknown]>([
    ['an object', { not: 'an array' }],
    ['a string', 'text'],
    ['a number', 5],
    ['null', null],
  ])('a single step feeding a map that outputs %s fails the step and the run', async (_label, output) => {
    const run = await startRun(db, 'list_then_map', {});
    await pollOne(db, 'list_then_map', 'list', { runId: run.run_id });
    await completeTask(db, run.run_id, 'list', 0, output);
    const list = await stepState(db, run.run_id, 'list');
    expect(list.status).toBe('failed');
    expect(list.error_message).toMatch(/^\[TYPE_VIOLATION\]/);
    expect(list.failed_at).toBeInstanceOf(Date);
    expect(await stepState(db, run.run_id, 'each')).toMatchObject({ status: 'created', initial_tasks: null });
    const failed = await runRow(db, run.run_id);
    expect(failed).toMatchObject({ status: 'failed', completed_at: null, output: null });
    expect(failed.failed_at).toBeInstanceOf(Date);
  });

  it("archives all the run's messages", async () => {
    await defineFlow(db, 'violation_with_sibling', [
      { slug: 'list' },
      { slug: 'sibling' },
      { slug: 'each', deps: ['list'], type: 'map' },
    ]);
    const run = await startRun(db, 'violation_with_sibling', {});
    const other = await startRun(db, 'violation_with_sibling', {});
    await pollOne(db, 'violation_with_sibling', 'list', { runId: run.run_id, stepSlug: 'list' });
    await completeTask(db, run.run_id, 'list', 0, { oops: true });
    expect(await queueMessages(db, 'violation_with_sibling', run.run_id)).toEqual([]);
    const archived = (await archivedMessages(db, 'violation_with_sibling', run.run_id)).map((m) => m.message.step_slug);
    expect(archived.sort()).toEqual(['list', 'sibling']);
    expect(await queueMessages(db, 'violation_with_sibling', other.run_id)).toHaveLength(2);
  });

  it('does not store the violating output as the step output', async () => {
    const run = await startRun(db, 'list_then_map', {});
    await pollOne(db, 'list_then_map', 'list', { runId: run.run_id });
    await completeTask(db, run.run_id, 'list', 0, 'nope');
    expect((await stepState(db, run.run_id, 'list')).output).toBeNull();
    expect((await stepTask(db, run.run_id, 'list')).status).not.toBe('completed');
  });

  it('does not apply to a single step whose dependent is a single step', async () => {
    await defineFlow(db, 'no_violation', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    const run = await startRun(db, 'no_violation', {});
    await drain(db, 'no_violation', () => ({ object: 'is fine' }));
    expect((await runRow(db, run.run_id)).status).toBe('completed');
  });
});

describe('completing the tasks of a wide map', () => {
  it("finds each reported task by its key: one index probe each, not a scan of the step's thousands", async () => {
    await defineFlow(db, 'wide_lookup', [{ slug: 'each', type: 'map' }]);
    const run = await startRun(
      db,
      'wide_lookup',
      Array.from({ length: 2_000 }, (_, i) => i),
    );
    const tasks = await pollTasks(db, 'wide_lookup', { runId: run.run_id, qty: 100 });
    const completions = tasks.map((t) => ({
      run_id: t.run_id,
      step_slug: t.step_slug,
      task_index: t.task_index,
      output: 1,
    }));
    const client = await db.connect();
    const reads = async (): Promise<{ seq: number; fetched: number }> => {
      const { rows } = await client.query<{ seq: string; fetched: string }>(
        `select seq_tup_read as seq, idx_tup_fetch as fetched from pg_stat_xact_user_tables
          where relid = 'pgflow.step_tasks'::regclass`,
      );
      return { seq: Number(rows[0]?.seq), fetched: Number(rows[0]?.fetched) };
    };
    await client.query('begin');
    const before = await reads();
    await client.query('select pgflow.complete_tasks($1::jsonb)', [JSON.stringify(completions)]);
    const after = await reads();
    await client.query('commit');
    expect(tasks).toHaveLength(100);
    expect(after.seq - before.seq).toBe(0);
    // A few index fetches per task (its lookup, the statements after it), not 2,000 per key.
    expect(after.fetched - before.fetched).toBeLessThanOrEqual(3 * tasks.length);
    expect(await statuses(db, run.run_id)).toMatchObject({ each: 'started' });
    expect((await stepState(db, run.run_id, 'each')).remaining_tasks).toBe(1_900);
  });
});
