/**
 * Flow shapes and compilation: _get_flow_shape, _create_flow_from_shape, _compare_flow_shapes and
 * ensure_flow_compiled (compiled / verified / recompiled / mismatch, once under concurrency).
 *
 * The shapes given to the engine are taken from the engine itself (_get_flow_shape of a flow
 * defined with add_step), so the tests do not depend on how a condition pattern is spelled in a
 * shape (pgflow 0.14 wraps it as {defined, value}).
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  type FlowRow,
  flowRowCounts,
  onClient,
  pollOne,
  type StepRow,
  type StepSpec,
  snapshotTables,
  startRun,
} from './support/engine-driver.ts';

const db = useTestDatabase();

interface ShapeStep {
  slug: string;
  stepType: string;
  dependencies: string[];
  whenUnmet: string;
  whenExhausted: string;
  requiredInputPattern: unknown;
  forbiddenInputPattern: unknown;
  options?: Record<string, number>;
}
interface Shape {
  steps: ShapeStep[];
  options?: Record<string, number>;
}
interface Compiled {
  status: 'compiled' | 'verified' | 'recompiled' | 'mismatch';
  differences: string[];
}

const RICH_STEPS: readonly StepSpec[] = [
  { slug: 'fetch' },
  { slug: 'zeta' },
  { slug: 'alpha', if: { ok: true } },
  { slug: 'join', deps: ['zeta', 'fetch', 'alpha'], ifNot: { fetch: { spam: true } }, whenUnmet: 'skip-cascade' },
  { slug: 'each', deps: ['join'], type: 'map', whenExhausted: 'skip' },
];

async function shapeOf(flowSlug: string): Promise<Shape> {
  const [row] = await db.query<{ shape: Shape }>('select pgflow._get_flow_shape($1) as shape', [flowSlug]);
  return row?.shape as Shape;
}

async function compare(local: Shape, stored: Shape): Promise<string[]> {
  const [row] = await db.query<{ d: string[] }>('select pgflow._compare_flow_shapes($1::jsonb, $2::jsonb) as d', [
    JSON.stringify(local),
    JSON.stringify(stored),
  ]);
  return row?.d as string[];
}

async function ensureCompiled(flowSlug: string, shape: Shape, allowDataLoss?: boolean): Promise<Compiled> {
  const [row] = await db.query<{ r: Compiled }>(
    allowDataLoss === undefined
      ? 'select pgflow.ensure_flow_compiled(flow_slug => $1, shape => $2::jsonb) as r'
      : 'select pgflow.ensure_flow_compiled(flow_slug => $1, shape => $2::jsonb, allow_data_loss => $3) as r',
    allowDataLoss === undefined ? [flowSlug, JSON.stringify(shape)] : [flowSlug, JSON.stringify(shape), allowDataLoss],
  );
  return row?.r as Compiled;
}

/** A condition pattern as a shape spells it: the pattern itself, or pgflow's {defined, value} wrapper. */
function patternIn(value: unknown): unknown {
  if (value && typeof value === 'object' && 'defined' in value) {
    const wrapper = value as { defined: boolean; value?: unknown };
    return wrapper.defined ? wrapper.value : null;
  }
  return value ?? null;
}

async function stepRows(flowSlug: string): Promise<Omit<StepRow, 'flow_slug'>[]> {
  const rows = await db.query<StepRow>(
    `select step_slug, step_type, step_index, deps_count, opt_max_attempts, opt_base_delay, opt_timeout,
            opt_start_delay, required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted
       from pgflow.steps where flow_slug = $1 order by step_index`,
    [flowSlug],
  );
  return rows;
}

let template: Shape;
beforeAll(async () => {
  await defineFlow(db, 'rich', RICH_STEPS);
  template = await shapeOf('rich');
});

describe('_get_flow_shape', () => {
  it('lists the steps in step order with their structure', async () => {
    expect(template.steps.map((s) => [s.slug, s.stepType, s.whenUnmet, s.whenExhausted])).toEqual([
      ['fetch', 'single', 'skip', 'fail'],
      ['zeta', 'single', 'skip', 'fail'],
      ['alpha', 'single', 'skip', 'fail'],
      ['join', 'single', 'skip-cascade', 'fail'],
      ['each', 'map', 'skip', 'skip'],
    ]);
  });

  it('sorts the dependencies', async () => {
    expect(template.steps.map((s) => s.dependencies)).toEqual([[], [], [], ['alpha', 'fetch', 'zeta'], ['join']]);
  });

  it('includes the condition patterns', async () => {
    expect(template.steps.map((s) => [patternIn(s.requiredInputPattern), patternIn(s.forbiddenInputPattern)])).toEqual([
      [null, null],
      [null, null],
      [{ ok: true }, null],
      [null, { fetch: { spam: true } }],
      [null, null],
    ]);
  });

  it('_create_flow_from_shape builds a flow with the same shape and the same steps', async () => {
    await db.query('select pgflow._create_flow_from_shape($1, $2::jsonb)', ['rich_copy', JSON.stringify(template)]);
    expect(await shapeOf('rich_copy')).toEqual(template);
    expect(await stepRows('rich_copy')).toEqual(await stepRows('rich'));
  });

  it('_create_flow_from_shape applies the flow and step options of the shape', async () => {
    const shape: Shape = {
      options: { maxAttempts: 6, baseDelay: 4, timeout: 25 },
      steps: template.steps.map((s) =>
        s.slug === 'fetch' ? { ...s, options: { maxAttempts: 2, baseDelay: 1, timeout: 9, startDelay: 3 } } : s,
      ),
    };
    await db.query('select pgflow._create_flow_from_shape($1, $2::jsonb)', ['rich_options', JSON.stringify(shape)]);
    const [flow] = await db.query<FlowRow>('select * from pgflow.flows where flow_slug = $1', ['rich_options']);
    expect(flow).toMatchObject({ opt_max_attempts: 6, opt_base_delay: 4, opt_timeout: 25 });
    const [fetch, zeta] = await stepRows('rich_options');
    expect(fetch).toMatchObject({ opt_max_attempts: 2, opt_base_delay: 1, opt_timeout: 9, opt_start_delay: 3 });
    expect(zeta).toMatchObject({
      opt_max_attempts: null,
      opt_base_delay: null,
      opt_timeout: null,
      opt_start_delay: null,
    });
  });
});

describe('_compare_flow_shapes', () => {
  const withStep = (slug: string, change: Partial<ShapeStep>): Shape => ({
    steps: template.steps.map((s) => (s.slug === slug ? { ...s, ...change } : s)),
  });

  it('finds no difference between equal shapes', async () => {
    expect(await compare(template, template)).toEqual([]);
  });

  it('ignores options', async () => {
    expect(await compare({ ...template, options: { maxAttempts: 99 } }, template)).toEqual([]);
  });

  it.each<[string, Partial<ShapeStep>, string]>([
    ['a different dependency', { dependencies: ['fetch', 'zeta'] }, 'join'],
    ['a different step type', { stepType: 'map' }, 'map'],
    ['a different when_unmet', { whenUnmet: 'fail' }, 'fail'],
    ['a different when_exhausted', { whenExhausted: 'skip' }, 'skip'],
    ['a different slug', { slug: 'joined' }, 'joined'],
  ])('describes %s in words naming it', async (_label, change, named) => {
    const differences = await compare(withStep('join', change), template);
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.join('\n')).toContain(named);
  });

  it('describes a different condition pattern', async () => {
    const other = await shapeOf('rich');
    const alpha = other.steps[2] as ShapeStep;
    alpha.requiredInputPattern = template.steps[3]?.forbiddenInputPattern;
    const differences = await compare(other, template);
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.join('\n')).toContain('alpha');
  });

  it('describes a missing and an extra step by slug', async () => {
    const fewer: Shape = { steps: template.steps.slice(0, 4) };
    const differences = await compare(fewer, template);
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.join('\n')).toContain('each');
  });
});

describe('ensure_flow_compiled', () => {
  it('compiles a missing flow', async () => {
    expect(await ensureCompiled('compiled_flow', template)).toEqual({ status: 'compiled', differences: [] });
    expect(await shapeOf('compiled_flow')).toEqual(template);
    const queues = await db.query('select 1 from pgmq.list_queues() where queue_name = $1', ['compiled_flow']);
    expect(queues).toHaveLength(1);
  });

  it('verifies a flow of the same shape and changes nothing', async () => {
    await ensureCompiled('verified_flow', template);
    const before = await snapshotTables(db);
    expect(await ensureCompiled('verified_flow', template)).toEqual({
      status: 'verified',
      differences: [],
      options_changed: [],
    });
    expect(await snapshotTables(db)).toEqual(before);
  });

  it('updates the options of a verified flow in place', async () => {
    await ensureCompiled('retuned_flow', template);
    const run = await startRun(db, 'retuned_flow', {});
    const result = await ensureCompiled('retuned_flow', {
      ...template,
      options: { maxAttempts: 8, baseDelay: 2, timeout: 40 },
    });
    expect(result.status).toBe('verified');
    const [flow] = await db.query<FlowRow>('select * from pgflow.flows where flow_slug = $1', ['retuned_flow']);
    expect(flow).toMatchObject({ opt_max_attempts: 8, opt_base_delay: 2, opt_timeout: 40 });
    expect(await db.query('select run_id from pgflow.runs where flow_slug = $1', ['retuned_flow'])).toEqual([
      { run_id: run.run_id },
    ]);
  });

  it('reports a mismatch with the differences and changes nothing', async () => {
    await ensureCompiled('mismatched_flow', template);
    await startRun(db, 'mismatched_flow', {});
    const before = await snapshotTables(db);
    const changed: Shape = { steps: [...template.steps, { ...(template.steps[0] as ShapeStep), slug: 'extra' }] };
    const result = await ensureCompiled('mismatched_flow', changed);
    expect(result.status).toBe('mismatch');
    expect(result.differences.length).toBeGreaterThan(0);
    expect(result.differences.join('\n')).toContain('extra');
    expect(await snapshotTables(db)).toEqual(before);
  });

  it('reports a mismatch when data loss is explicitly not allowed', async () => {
    await ensureCompiled('guarded_flow', template);
    const result = await ensureCompiled('guarded_flow', { steps: template.steps.slice(0, 2) }, false);
    expect(result.status).toBe('mismatch');
  });

  it('recompiles a different shape when data loss is allowed, deleting the old runs', async () => {
    await ensureCompiled('replaced_flow', template);
    const run = await startRun(db, 'replaced_flow', {});
    await pollOne(db, 'replaced_flow', undefined, { runId: run.run_id, stepSlug: 'fetch' });
    await completeTask(db, run.run_id, 'fetch', 0, 'old');
    const smaller: Shape = { steps: template.steps.slice(0, 2) };
    const result = await ensureCompiled('replaced_flow', smaller, true);
    expect(result.status).toBe('recompiled');
    expect(result.differences.length).toBeGreaterThan(0);
    expect(await shapeOf('replaced_flow')).toEqual(smaller);
    expect(await flowRowCounts(db, 'replaced_flow')).toMatchObject({
      runs: 0,
      step_states: 0,
      step_tasks: 0,
      steps: 2,
    });
    const fresh = await startRun(db, 'replaced_flow', {});
    expect(fresh.remaining_steps).toBe(2);
  });

  it('compiles once when several connections ask at the same time', async () => {
    const clients = await Promise.all([1, 2, 3, 4, 5].map((i) => db.connect(`compiler ${i}`)));
    const results = await Promise.all(
      clients.map(async (client) => {
        const [row] = await onClient(client).query<{ r: Compiled }>(
          'select pgflow.ensure_flow_compiled(flow_slug => $1, shape => $2::jsonb) as r',
          ['raced_flow', JSON.stringify(template)],
        );
        return row?.r.status;
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(results.filter((s) => s === 'compiled')).toHaveLength(1);
    expect(results.filter((s) => s === 'verified')).toHaveLength(4);
    expect(await flowRowCounts(db, 'raced_flow')).toMatchObject({ flows: 1, steps: 5, deps: 4 });
  });
});
