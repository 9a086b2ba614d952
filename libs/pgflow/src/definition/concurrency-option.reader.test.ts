/**
 * `@Flow({ concurrency, concurrencyKey })` and `@Step({ concurrency })`: read and checked at boot,
 * each bad value an InvalidFlowDefinitionError problem naming the class (and step), the option, the
 * value and the fix; and the shape they give the engine (a flow without them: the shape of before).
 */
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import type { FlowOptions, StepOptions } from '../types/step-options.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';
import { toFlowShape } from './flow-shape.ts';

/** A flow `conc_flow` with the flow options and one step `only` with the step options (typed loosely: bad input). */
function flowClass(flowOptions: unknown, stepOptions: unknown = {}): new () => object {
  @Flow({ slug: 'conc_flow', ...(flowOptions as object) } as FlowOptions)
  class ConcFlow {
    @Step(stepOptions as StepOptions)
    only(): void {}
  }
  return ConcFlow;
}

function definitionError(options: unknown, stepOptions?: unknown): InvalidFlowDefinitionError {
  try {
    flowDefinitionOf(new (flowClass(options, stepOptions))());
  } catch (error) {
    if (error instanceof InvalidFlowDefinitionError) return error;
    throw error;
  }
  throw new Error('expected the flow to be invalid');
}

const tenantKey = (input: { tenant: string }) => input.tenant;

describe('@Flow({ concurrency, concurrencyKey }) and @Step({ concurrency })', () => {
  it.each([
    ['zero', 0],
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['a string', '5'],
    ['beyond an int4', 2_147_483_648],
    ['NaN', Number.NaN],
  ])('refuses a flow concurrency that is %s, naming the flow, the value and the fix', (_name, value) => {
    const error = definitionError({ concurrency: value });
    expect(error.flowSlug).toBe('conc_flow');
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems;
    expect(problem?.code).toBe('INVALID_OPTION');
    expect(problem?.message).toContain('ConcFlow: @Flow({ concurrency }) is ');
    expect(problem?.message).toContain(typeof value === 'string' ? `"${value}"` : String(value));
    expect(problem?.message).toContain('expected an integer from 1 to 2147483647');
  });

  it.each([
    ['zero', 0],
    ['a fraction', 0.5],
    ['null', null],
  ])('refuses a step concurrency that is %s, naming the step', (_name, value) => {
    const error = definitionError({}, { concurrency: value });
    const [problem] = error.problems;
    expect(error.problems).toHaveLength(1);
    expect(problem?.methodName).toBe('only');
    expect(problem?.message).toContain('ConcFlow.only(): @Step({ concurrency }) is ');
    expect(problem?.message).toContain('expected an integer from 1 to 2147483647');
  });

  it('refuses a concurrencyKey that is not a function', () => {
    const [problem] = definitionError({ concurrency: 1, concurrencyKey: 'tenant' }).problems;
    expect(problem?.message).toContain('@Flow({ concurrencyKey }) must be a function of the run input');
    expect(problem?.message).toContain('"tenant"');
  });

  it('refuses a concurrencyKey without concurrency, saying to add one', () => {
    const error = definitionError({ concurrencyKey: tenantKey });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.message).toContain('@Flow({ concurrencyKey }) has no concurrency');
    expect(error.problems[0]?.message).toContain('@Flow({ concurrency: 1, concurrencyKey })');
  });

  it('suggests the option for a misspelt one', () => {
    const [problem] = definitionError({ concurency: 2 }).problems;
    expect(problem?.code).toBe('UNKNOWN_OPTION');
    expect(problem?.message).toContain("did you mean 'concurrency'?");
  });

  it('keeps the limits and the key function on the definition', () => {
    const definition = flowDefinitionOf(
      new (flowClass({ concurrency: 2, concurrencyKey: tenantKey }, { concurrency: 3 }))(),
    );
    expect(definition.concurrency?.limit).toBe(2);
    expect(definition.concurrency?.key?.({ tenant: 't1' })).toBe('t1');
    expect(definition.stepsBySlug.get('only')?.concurrency).toBe(3);
  });

  it("puts a flow limit without a key in options.concurrency (the flow's tasks)", () => {
    const shape = toFlowShape(flowDefinitionOf(new (flowClass({ concurrency: 4 }))()));
    expect(shape.options).toEqual({ concurrency: 4 });
  });

  it('puts a flow limit with a key in options.concurrencyPerKey (runs per key), without the function', () => {
    const shape = toFlowShape(flowDefinitionOf(new (flowClass({ concurrency: 1, concurrencyKey: tenantKey }))()));
    expect(shape.options).toEqual({ concurrencyPerKey: 1 });
    expect(JSON.parse(JSON.stringify(shape))).toEqual(shape);
  });

  it("puts a step limit in that step's options.concurrency", () => {
    const shape = toFlowShape(flowDefinitionOf(new (flowClass({}, { concurrency: 2, maxAttempts: 1 }))()));
    expect(shape.options).toBeUndefined();
    expect(shape.steps[0]?.options).toEqual({ maxAttempts: 1, concurrency: 2 });
  });

  it('gives a flow without them the shape it had before (no options at all)', () => {
    const shape = toFlowShape(flowDefinitionOf(new (flowClass({}))()));
    expect(shape).toEqual({
      steps: [
        {
          slug: 'only',
          stepType: 'single',
          dependencies: [],
          whenUnmet: 'skip',
          whenExhausted: 'fail',
          requiredInputPattern: { defined: false },
          forbiddenInputPattern: { defined: false },
        },
      ],
    });
  });
});
