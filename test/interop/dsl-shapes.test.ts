/**
 * Flows defined with pgflow's own tools compile to the same definitions here and verify against the
 * same flows written with @Flow/@Step: pgflow's DSL (@pgflow/dsl's compileFlow, the version the
 * registry has for Node 20) and pgflow 0.14's shape format, which its worker passes to
 * ensure_flow_compiled at startup (written here from its documented format: patterns as
 * {"defined": false} / {"defined": true, "value": ...}, options at the flow and step level).
 */
import { compileFlow, Flow as DslFlow } from '@pgflow/dsl';
import { Flow, type MapStepContext, Step } from 'nestjs-pgflow';
import { flowDefinitionOf } from '../../libs/pgflow/src/definition/flow-definition.builder.ts';
import { toFlowShape } from '../../libs/pgflow/src/definition/flow-shape.ts';
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();

async function ensure(flowSlug: string, shape: unknown): Promise<{ status: string; differences: string[] }> {
  const [row] = await db.query<{ result: { status: string; differences: string[] } }>(
    'select pgflow.ensure_flow_compiled(flow_slug => $1, shape => $2::jsonb) as result',
    [flowSlug, JSON.stringify(shape)],
  );
  return row?.result as { status: string; differences: string[] };
}

@Flow({ slug: 'interop_dsl', maxAttempts: 2, timeout: 30 })
class DslTwinFlow {
  @Step()
  fetch(_input: { url: string }) {
    return ['a', 'b'];
  }

  @Step({ dependsOn: ['fetch'], map: true })
  each(item: string, _ctx: MapStepContext) {
    return item;
  }

  @Step({ dependsOn: ['fetch', 'each'], timeout: 5 })
  save() {
    return 1;
  }
}

describe("pgflow's DSL (compileFlow)", () => {
  it('creates the definition the @Flow class describes: ensure_flow_compiled verifies it', async () => {
    const dslFlow = new DslFlow<{ url: string }>({ slug: 'interop_dsl', maxAttempts: 2, timeout: 30 })
      .step({ slug: 'fetch' }, () => ['a', 'b'])
      .map({ slug: 'each', array: 'fetch' }, (item) => item)
      .step({ slug: 'save', dependsOn: ['fetch', 'each'], timeout: 5 }, () => 1);
    for (const statement of compileFlow(dslFlow)) await db.query(statement);

    const shape = toFlowShape(flowDefinitionOf(new DslTwinFlow()));
    expect(await ensure('interop_dsl', shape)).toEqual({ status: 'verified', differences: [], options_changed: [] });
    const rows = await db.query(
      `select step_slug, step_type, deps_count, opt_max_attempts, opt_timeout from pgflow.steps
        where flow_slug = 'interop_dsl' order by step_index`,
    );
    expect(rows).toEqual([
      { step_slug: 'fetch', step_type: 'single', deps_count: 0, opt_max_attempts: null, opt_timeout: null },
      { step_slug: 'each', step_type: 'map', deps_count: 1, opt_max_attempts: null, opt_timeout: null },
      { step_slug: 'save', step_type: 'single', deps_count: 2, opt_max_attempts: null, opt_timeout: 5 },
    ]);
  });
});

/** What pgflow 0.14's DSL extracts from a flow with a condition, a map and options. */
const PGFLOW_014_SHAPE = {
  steps: [
    {
      slug: 'order',
      stepType: 'single',
      dependencies: [],
      whenUnmet: 'skip',
      whenExhausted: 'fail',
      requiredInputPattern: { defined: false },
      forbiddenInputPattern: { defined: false },
    },
    {
      slug: 'express',
      stepType: 'single',
      dependencies: ['order'],
      whenUnmet: 'skip',
      whenExhausted: 'fail',
      requiredInputPattern: { defined: true, value: { order: { express: true } } },
      forbiddenInputPattern: { defined: false },
      options: { maxAttempts: 5 },
    },
    {
      slug: 'lines',
      stepType: 'map',
      dependencies: ['order'],
      whenUnmet: 'skip',
      whenExhausted: 'skip',
      requiredInputPattern: { defined: false },
      forbiddenInputPattern: { defined: true, value: { order: { lines: [] } } },
      options: { startDelay: 2 },
    },
  ],
  options: { maxAttempts: 3, baseDelay: 1, timeout: 20 },
};

@Flow({ slug: 'interop_shape', maxAttempts: 3, baseDelay: 1, timeout: 20 })
class ShapeTwinFlow {
  @Step()
  order(input: { express: boolean; lines: string[] }) {
    return input;
  }

  @Step({ dependsOn: ['order'], if: { order: { express: true } }, maxAttempts: 5 })
  express() {
    return 'label';
  }

  @Step({ dependsOn: ['order'], map: true, ifNot: { order: { lines: [] } }, whenExhausted: 'skip', startDelay: 2 })
  lines(line: string, _ctx: MapStepContext) {
    return line;
  }
}

describe("pgflow 0.14's shape format", () => {
  it('compiles a flow, then verifies it, and reads back the same structure', async () => {
    expect(await ensure('interop_shape', PGFLOW_014_SHAPE)).toEqual({ status: 'compiled', differences: [] });
    expect(await ensure('interop_shape', PGFLOW_014_SHAPE)).toEqual({
      status: 'verified',
      differences: [],
      options_changed: [],
    });
    const [row] = await db.query<{ shape: typeof PGFLOW_014_SHAPE }>(
      `select pgflow._get_flow_shape(p_flow_slug => 'interop_shape') as shape`,
    );
    expect(row?.shape).toEqual({ steps: PGFLOW_014_SHAPE.steps.map(({ options: _options, ...step }) => step) });
    const [express] = await db.query(
      `select required_input_pattern, forbidden_input_pattern, opt_max_attempts from pgflow.steps
        where flow_slug = 'interop_shape' and step_slug = 'express'`,
    );
    expect(express).toEqual({
      required_input_pattern: { order: { express: true } },
      forbidden_input_pattern: null,
      opt_max_attempts: 5,
    });
  });

  it('verifies against the same flow written with @Flow/@Step, both ways', async () => {
    const library = toFlowShape(flowDefinitionOf(new ShapeTwinFlow()));
    expect(await ensure('interop_shape', library)).toEqual({
      status: 'verified',
      differences: [],
      options_changed: [],
    });
    expect(await ensure('interop_shape', PGFLOW_014_SHAPE)).toEqual({
      status: 'verified',
      differences: [],
      options_changed: [],
    });
  });

  it('reports a changed pattern as a mismatch, naming the step', async () => {
    const changed = structuredClone(PGFLOW_014_SHAPE);
    (changed.steps[1] as { requiredInputPattern: unknown }).requiredInputPattern = {
      defined: true,
      value: { order: { express: false } },
    };
    const result = await ensure('interop_shape', changed);
    expect(result.status).toBe('mismatch');
    expect(result.differences).toEqual([expect.stringContaining('"express": requiredInputPattern differs')]);
  });

  it('still reads a shape whose patterns are the patterns themselves (earlier versions of this library)', async () => {
    const legacy = {
      ...PGFLOW_014_SHAPE,
      steps: PGFLOW_014_SHAPE.steps.map((step) => ({
        ...step,
        requiredInputPattern: step.requiredInputPattern.defined ? step.requiredInputPattern.value : null,
        forbiddenInputPattern: step.forbiddenInputPattern.defined ? step.forbiddenInputPattern.value : null,
      })),
    };
    expect(await ensure('interop_shape', legacy)).toEqual({ status: 'verified', differences: [], options_changed: [] });
  });
});
