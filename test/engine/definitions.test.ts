/**
 * Flow definitions: create_flow, add_step, slugs, retry delays, and delete_flow_and_data.
 */

import { ENGINE_DEFAULTS } from '../../libs/pgflow/src/pgflow.constants.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  addStep,
  completeTask,
  createFlow,
  defineFlow,
  flowRowCounts,
  pollTasks,
  type StepRow,
  startRun,
} from './support/engine-driver.ts';

const db = useTestDatabase();

async function stepsOf(flowSlug: string): Promise<StepRow[]> {
  return db.query<StepRow>('select * from pgflow.steps where flow_slug = $1 order by step_index', [flowSlug]);
}

async function depsOf(flowSlug: string): Promise<Array<{ dep_slug: string; step_slug: string }>> {
  return db.query('select dep_slug, step_slug from pgflow.deps where flow_slug = $1 order by step_slug, dep_slug', [
    flowSlug,
  ]);
}

async function queueExists(queueName: string): Promise<boolean> {
  const rows = await db.query('select 1 from pgmq.list_queues() where queue_name = $1', [queueName]);
  return rows.length === 1;
}

describe('create_flow', () => {
  it('uses max_attempts 3, base_delay 5 and timeout 60 when the options are null', async () => {
    const flow = await createFlow(db, 'defaults_flow');
    expect(flow).toMatchObject({ flow_slug: 'defaults_flow', opt_max_attempts: 3, opt_base_delay: 5, opt_timeout: 60 });
    const [stored] = await db.query('select * from pgflow.flows where flow_slug = $1', ['defaults_flow']);
    expect(stored).toMatchObject({ opt_max_attempts: 3, opt_base_delay: 5, opt_timeout: 60 });
  });

  it('stores the given options', async () => {
    const flow = await createFlow(db, 'options_flow', { maxAttempts: 7, baseDelay: 2, timeout: 11 });
    expect(flow).toMatchObject({ opt_max_attempts: 7, opt_base_delay: 2, opt_timeout: 11 });
  });

  it('accepts zero attempts and zero base delay', async () => {
    const flow = await createFlow(db, 'zero_options_flow', { maxAttempts: 0, baseDelay: 0, timeout: 1 });
    expect(flow).toMatchObject({ opt_max_attempts: 0, opt_base_delay: 0, opt_timeout: 1 });
  });

  it('creates the queue named after the flow', async () => {
    await createFlow(db, 'queued_flow');
    expect(await queueExists('queued_flow')).toBe(true);
  });

  it('returns an existing flow unchanged', async () => {
    await createFlow(db, 'existing_flow', { maxAttempts: 4, baseDelay: 1, timeout: 30 });
    const again = await createFlow(db, 'existing_flow', { maxAttempts: 9, baseDelay: 9, timeout: 99 });
    expect(again).toMatchObject({ opt_max_attempts: 4, opt_base_delay: 1, opt_timeout: 30 });
    const rows = await db.query('select * from pgflow.flows where flow_slug = $1', ['existing_flow']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ opt_max_attempts: 4, opt_base_delay: 1, opt_timeout: 30 });
  });

  it('accepts a flow slug of 47 characters, the longest queue name', async () => {
    const slug = `f${'x'.repeat(46)}`;
    await createFlow(db, slug);
    expect(await queueExists(slug)).toBe(true);
  });
});

describe('add_step', () => {
  it('numbers steps in the order they are added', async () => {
    await defineFlow(db, 'indexed_flow', [{ slug: 'first' }, { slug: 'second' }, { slug: 'third', deps: ['first'] }]);
    const steps = await stepsOf('indexed_flow');
    expect(steps.map((s) => [s.step_slug, s.step_index])).toEqual([
      ['first', 0],
      ['second', 1],
      ['third', 2],
    ]);
  });

  it('records one dependency row per dependency and the dependency count', async () => {
    await defineFlow(db, 'deps_flow', [{ slug: 'a' }, { slug: 'b' }, { slug: 'c', deps: ['a', 'b'] }]);
    expect(await depsOf('deps_flow')).toEqual([
      { dep_slug: 'a', step_slug: 'c' },
      { dep_slug: 'b', step_slug: 'c' },
    ]);
    const counts = Object.fromEntries((await stepsOf('deps_flow')).map((s) => [s.step_slug, s.deps_count]));
    expect(counts).toEqual({ a: 0, b: 0, c: 2 });
  });

  it('defaults to a single step that inherits every option, skips when unmet and fails when exhausted', async () => {
    await createFlow(db, 'step_defaults_flow');
    const step = await db.query<StepRow>(
      `select * from pgflow.add_step(flow_slug => $1, step_slug => $2)`, // only the required arguments
      ['step_defaults_flow', 'only'],
    );
    expect(step[0]).toMatchObject({
      step_type: 'single',
      deps_count: 0,
      opt_max_attempts: null,
      opt_base_delay: null,
      opt_timeout: null,
      opt_start_delay: null,
      required_input_pattern: null,
      forbidden_input_pattern: null,
      when_unmet: 'skip',
      when_exhausted: 'fail',
    });
  });

  it('stores the step options, type, conditions and policies', async () => {
    await createFlow(db, 'step_options_flow');
    await addStep(db, 'step_options_flow', { slug: 'source' });
    const step = await addStep(db, 'step_options_flow', {
      slug: 'each',
      deps: ['source'],
      type: 'map',
      maxAttempts: 0,
      baseDelay: 2,
      timeout: 9,
      startDelay: 4,
      if: { source: { ok: true } },
      ifNot: { source: { banned: true } },
      whenUnmet: 'skip-cascade',
      whenExhausted: 'skip',
    });
    expect(step).toMatchObject({
      step_type: 'map',
      step_index: 1,
      deps_count: 1,
      opt_max_attempts: 0,
      opt_base_delay: 2,
      opt_timeout: 9,
      opt_start_delay: 4,
      required_input_pattern: { source: { ok: true } },
      forbidden_input_pattern: { source: { banned: true } },
      when_unmet: 'skip-cascade',
      when_exhausted: 'skip',
    });
  });

  it('accepts a map step with no dependency (a root map)', async () => {
    await createFlow(db, 'root_map_def_flow');
    const step = await addStep(db, 'root_map_def_flow', { slug: 'each', type: 'map' });
    expect(step).toMatchObject({ step_type: 'map', deps_count: 0 });
  });

  it('returns an existing step unchanged and adds no dependency', async () => {
    await defineFlow(db, 'same_step_flow', [{ slug: 'a' }, { slug: 'b' }, { slug: 'c', deps: ['a'], timeout: 5 }]);
    const again = await addStep(db, 'same_step_flow', { slug: 'c', deps: ['a', 'b'], timeout: 50 });
    expect(again).toMatchObject({ step_slug: 'c', step_index: 2, deps_count: 1, opt_timeout: 5 });
    expect(await depsOf('same_step_flow')).toEqual([{ dep_slug: 'a', step_slug: 'c' }]);
    expect(await stepsOf('same_step_flow')).toHaveLength(3);
  });
});

describe('is_valid_slug', () => {
  it.each([
    ['a', true],
    ['_private', true],
    ['Mixed_Case_9', true],
    [`a${'b'.repeat(127)}`, true],
    [`a${'b'.repeat(128)}`, false],
    ['', false],
    ['9lives', false],
    ['with-dash', false],
    ['with space', false],
    ['dotted.name', false],
    ['run', false],
    ['semi;colon', false],
  ])('is_valid_slug(%j) is %s', async (slug, valid) => {
    const [row] = await db.query<{ valid: boolean }>('select pgflow.is_valid_slug(slug => $1) as valid', [slug]);
    expect(row?.valid).toBe(valid);
  });
});

describe('calculate_retry_delay', () => {
  it.each([
    [5, 0, 5],
    [5, 1, 10],
    [5, 2, 20],
    [3, 3, 24],
    [0, 4, 0],
    [1.5, 1, 3],
    [1.5, 0, 1],
    [2.7, 2, 10],
  ])('base %s after %s attempts waits %s seconds', async (base, attempts, seconds) => {
    const [row] = await db.query<{ delay: number }>(
      'select pgflow.calculate_retry_delay(base_delay => $1::numeric, attempts_count => $2) as delay',
      [base, attempts],
    );
    expect(row?.delay).toBe(seconds);
  });

  it.each([
    [1, 29, 536_870_912],
    [5, 29, 2_147_483_647],
    [1, 31, 2_147_483_647],
    [1, 1000, 2_147_483_647],
    [3, 2_147_483_647, 2_147_483_647],
  ])('base %s after %s attempts never overflows: %s seconds at most', async (base, attempts, seconds) => {
    const [row] = await db.query<{ delay: number }>(
      'select pgflow.calculate_retry_delay(base_delay => $1::numeric, attempts_count => $2) as delay',
      [base, attempts],
    );
    expect(row?.delay).toBe(seconds);
  });
});

describe('flow defaults', () => {
  it('are written once, as the defaults of pgflow.flows: create_flow uses them for null options', async () => {
    const [defaults] = await db.query(
      `select max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_max_attempts') as max_attempts,
              max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_base_delay') as base_delay,
              max(pg_get_expr(d.adbin, d.adrelid)) filter (where a.attname = 'opt_timeout') as timeout
         from pg_attribute a join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = 'pgflow.flows'::regclass`,
    );
    expect(defaults).toEqual({ max_attempts: '3', base_delay: '5', timeout: '60' });
    expect(await db.query('select * from pgflow._flow_defaults()')).toEqual([
      { max_attempts: 3, base_delay: 5, timeout: 60 },
    ]);
    await db.query("insert into pgflow.flows (flow_slug) values ('inserted_directly')");
    const [direct] = await db.query("select * from pgflow.flows where flow_slug = 'inserted_directly'");
    const [created] = await db.query("select * from pgflow.create_flow('created_by_function')");
    for (const row of [direct, created]) {
      expect(row).toMatchObject({ opt_max_attempts: 3, opt_base_delay: 5, opt_timeout: 60 });
    }
  });

  it("agree with the library's ENGINE_DEFAULTS (which it needs before the database answers)", async () => {
    const [defaults] = await db.query('select * from pgflow._flow_defaults()');
    expect(defaults).toEqual({
      max_attempts: ENGINE_DEFAULTS.maxAttempts,
      base_delay: ENGINE_DEFAULTS.baseDelay,
      timeout: ENGINE_DEFAULTS.timeout,
    });
  });
});

describe('create_flow at the same moment as a slug differing only in case', () => {
  it('refuses the second with PF001, however the two transactions interleave', async () => {
    const first = await db.connect('create Foo');
    const second = await db.connect('create foo');
    await first.query('begin');
    await first.query("select pgflow.create_flow('Case_race')");
    await second.query('begin');
    // Both pass the case check (neither sees the other's uncommitted row); the index decides.
    const refused = second.query("select pgflow.create_flow('case_race')").then(
      () => null,
      (error: { code?: string; message?: string }) => error,
    );
    // The second waits on the index for the first to commit: neither saw the other's row.
    await waitFor(
      async () =>
        (
          await db.query(
            "select 1 from pg_stat_activity where application_name = 'create foo' and wait_event_type = 'Lock'",
          )
        ).length > 0,
      { description: 'the second create_flow waiting on the first' },
    );
    await first.query('commit');
    expect(await refused).toMatchObject({
      code: 'PF001',
      message: expect.stringContaining('differs only in letter case was just created'),
    });
    await second.query('rollback');
    expect(await db.query("select flow_slug from pgflow.flows where lower(flow_slug) = 'case_race'")).toEqual([
      { flow_slug: 'Case_race' },
    ]);
  });
});

describe('delete_flow_and_data', () => {
  it('removes the flow, its steps, dependencies, runs, step states, tasks and queue', async () => {
    await defineFlow(db, 'doomed_flow', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    const run = await startRun(db, 'doomed_flow', { x: 1 });
    const [task] = await pollTasks(db, 'doomed_flow');
    await completeTask(db, run.run_id, task?.step_slug ?? 'a', 0, { done: true });
    await startRun(db, 'doomed_flow', { x: 2 });

    await db.query('select pgflow.delete_flow_and_data(p_flow_slug => $1)', ['doomed_flow']);

    expect(await flowRowCounts(db, 'doomed_flow')).toEqual({
      flows: 0,
      steps: 0,
      deps: 0,
      runs: 0,
      step_states: 0,
      step_tasks: 0,
    });
    expect(await queueExists('doomed_flow')).toBe(false);
    const [tables] = await db.query<{ q: string | null; a: string | null }>(
      `select to_regclass('pgmq.q_doomed_flow')::text as q, to_regclass('pgmq.a_doomed_flow')::text as a`,
    );
    expect(tables).toEqual({ q: null, a: null });
  });

  it('leaves other flows and their runs alone', async () => {
    await defineFlow(db, 'kept_flow', [{ slug: 'a' }]);
    await defineFlow(db, 'removed_flow', [{ slug: 'a' }]);
    await startRun(db, 'kept_flow', {});
    await startRun(db, 'removed_flow', {});
    const before = await flowRowCounts(db, 'kept_flow');

    await db.query('select pgflow.delete_flow_and_data(p_flow_slug => $1)', ['removed_flow']);

    expect(await flowRowCounts(db, 'kept_flow')).toEqual(before);
    expect(before).toMatchObject({ flows: 1, steps: 1, runs: 1, step_states: 1, step_tasks: 1 });
    expect(await queueExists('kept_flow')).toBe(true);
  });
});
