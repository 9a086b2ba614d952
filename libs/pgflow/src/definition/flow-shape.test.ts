import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import type { MapStepContext } from '../types/step-context.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';
import { toFlowShape } from './flow-shape.ts';

@Flow({ slug: 'shaped', maxAttempts: 4, timeout: 20 })
class ShapedFlow {
  @Step()
  root(): string[] {
    return [];
  }

  @Step({ dependsOn: ['root'], map: true, startDelay: 3 })
  item(value: string, _ctx: MapStepContext): string {
    return value;
  }

  @Step({ dependsOn: ['root'], if: { root: ['a'] }, whenUnmet: 'skip-cascade' })
  Zeta(): void {}

  @Step({ dependsOn: ['root', 'item', 'Zeta', '_first'], ifNot: { item: [] }, whenExhausted: 'skip', maxAttempts: 1 })
  join(): void {}

  @Step()
  _first(): void {}
}

describe('toFlowShape', () => {
  const shape = toFlowShape(flowDefinitionOf(new ShapedFlow()));

  it('lists the steps in step order with their structure', () => {
    expect(shape.steps.map((step) => step.slug)).toEqual(['root', 'item', 'Zeta', '_first', 'join']);
    expect(shape.steps[0]).toEqual({
      slug: 'root',
      stepType: 'single',
      dependencies: [],
      whenUnmet: 'skip',
      whenExhausted: 'fail',
      requiredInputPattern: { defined: false },
      forbiddenInputPattern: { defined: false },
    });
    expect(shape.steps[2]).toEqual({
      slug: 'Zeta',
      stepType: 'single',
      dependencies: ['root'],
      whenUnmet: 'skip-cascade',
      whenExhausted: 'fail',
      requiredInputPattern: { defined: true, value: { root: ['a'] } },
      forbiddenInputPattern: { defined: false },
    });
  });

  it('sorts dependencies by code unit (collate "C"), not in declaration or locale order', () => {
    expect(shape.steps[4]?.dependencies).toEqual(['Zeta', '_first', 'item', 'root']);
  });

  it('adds only the options a flow or step sets, and omits options when none is set', () => {
    expect(shape.options).toEqual({ maxAttempts: 4, timeout: 20 });
    expect(shape.steps[1]).toMatchObject({ stepType: 'map', options: { startDelay: 3 } });
    expect(shape.steps[4]).toMatchObject({
      whenExhausted: 'skip',
      forbiddenInputPattern: { defined: true, value: { item: [] } },
      options: { maxAttempts: 1 },
    });
    expect('options' in (shape.steps[0] ?? {})).toBe(false);
  });

  it('omits the flow options when the flow sets none', () => {
    @Flow({ slug: 'plain' })
    class PlainFlow {
      @Step()
      only(): void {}
    }
    expect(toFlowShape(flowDefinitionOf(new PlainFlow()))).toEqual({
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

  it('adds the rate limit without its key function (the engine stores limit and period)', () => {
    @Flow({ slug: 'limited', rateLimit: { limit: 5, periodSeconds: 1, key: (input: { host: string }) => input.host } })
    class LimitedFlow {
      @Step()
      only(): void {}
    }
    const definition = flowDefinitionOf(new LimitedFlow());
    expect(toFlowShape(definition).options).toEqual({ rateLimit: { limit: 5, periodSeconds: 1 } });
    expect(definition.rateLimit?.key?.({ host: 'a.example' })).toBe('a.example');
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(shape))).toEqual(shape);
  });
});
