/**
 * toFlowShape against the engine: the shape it produces compiles with ensure_flow_compiled, creates
 * the steps and options the definition describes, and verifies against itself afterwards.
 */
import { useTestDatabase } from '../../../../test/support/test-database.ts';
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import type { MapStepContext } from '../types/step-context.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';
import { type FlowShape, toFlowShape } from './flow-shape.ts';

@Flow({ slug: 'shape_on_engine', maxAttempts: 4, baseDelay: 2, timeout: 30 })
class ShapeOnEngineFlow {
  @Step({ dependsOn: ['Zeta', 'items', '_first'], whenExhausted: 'skip-cascade', timeout: 5 })
  join(): void {}

  @Step()
  items(): number[] {
    return [];
  }

  @Step({ dependsOn: ['items'], map: true, startDelay: 1, maxAttempts: 1 })
  each(item: number, _ctx: MapStepContext): number {
    return item;
  }

  @Step({ dependsOn: ['items'], if: { items: [1] }, ifNot: { items: [2] }, whenUnmet: 'fail' })
  Zeta(): void {}

  @Step()
  _first(): void {}
}

describe('toFlowShape on the engine', () => {
  const database = useTestDatabase();
  const shape = toFlowShape(flowDefinitionOf(new ShapeOnEngineFlow()));

  const ensure = async (candidate: FlowShape) => {
    const [row] = await database.query<{ result: { status: string; differences: string[] } }>(
      'select pgflow.ensure_flow_compiled(flow_slug => $1, shape => $2::jsonb) as result',
      ['shape_on_engine', JSON.stringify(candidate)],
    );
    return row?.result;
  };

  it('compiles, then verifies against the same definition', async () => {
    await expect(ensure(shape)).resolves.toEqual({ status: 'compiled', differences: [] });
    await expect(ensure(shape)).resolves.toEqual({ status: 'verified', differences: [], options_changed: [] });
  });

  it('creates the steps in step order with their structure and options', async () => {
    const flows = await database.query(
      `select opt_max_attempts, opt_base_delay, opt_timeout from pgflow.flows where flow_slug = 'shape_on_engine'`,
    );
    expect(flows).toEqual([{ opt_max_attempts: 4, opt_base_delay: 2, opt_timeout: 30 }]);
    const steps = await database.query(
      `select step_slug, step_type, deps_count, opt_max_attempts, opt_timeout, opt_start_delay, when_unmet,
              when_exhausted, required_input_pattern, forbidden_input_pattern
         from pgflow.steps where flow_slug = 'shape_on_engine' order by step_index`,
    );
    expect(steps.map((step) => step.step_slug)).toEqual(shape.steps.map((step) => step.slug));
    expect(steps.find((step) => step.step_slug === 'each')).toMatchObject({
      step_type: 'map',
      opt_max_attempts: 1,
      opt_start_delay: 1,
      opt_timeout: null,
    });
    expect(steps.find((step) => step.step_slug === 'Zeta')).toMatchObject({
      when_unmet: 'fail',
      required_input_pattern: { items: [1] },
      forbidden_input_pattern: { items: [2] },
    });
    expect(steps.find((step) => step.step_slug === 'join')).toMatchObject({
      deps_count: 3,
      when_exhausted: 'skip-cascade',
      opt_timeout: 5,
    });
  });

  it('reads back, from the database, the shape the definition produced', async () => {
    const [row] = await database.query<{ shape: FlowShape }>(
      `select pgflow._get_flow_shape('shape_on_engine') as shape`,
    );
    // The engine sorts dependencies with the database's collation, which need not be "C".
    const structure = (steps: FlowShape['steps']) =>
      steps.map(({ options: _options, ...step }) => ({ ...step, dependencies: [...step.dependencies].sort() }));
    expect(structure(row?.shape.steps ?? [])).toEqual(structure(shape.steps));
  });

  it('reports a changed definition as a mismatch', async () => {
    const changed: FlowShape = { ...shape, steps: shape.steps.filter((step) => step.slug !== 'each') };
    const result = await ensure(changed);
    expect(result?.status).toBe('mismatch');
    expect(result?.differences.length).toBeGreaterThan(0);
  });
});
