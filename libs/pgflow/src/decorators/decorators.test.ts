import { Injectable } from '@nestjs/common';
import { PgflowMetadataAccessor } from '../discovery/pgflow-metadata.accessor.ts';
import { FLOW_METADATA, STEP_METADATA } from '../pgflow.constants.ts';
import type { MapStepContext } from '../types/step-context.ts';
import { Flow } from './flow.decorator.ts';
import { Step } from './step.decorator.ts';

@Injectable()
class Helper {}

@Flow({ slug: 'decorated', maxAttempts: 2 })
class DecoratedFlow {
  constructor(readonly helper: Helper) {}

  @Step()
  first(): number[] {
    return [];
  }

  @Step({ dependsOn: ['first'], map: true, slug: 'each_item' })
  eachItem(item: number, _ctx: MapStepContext): number {
    return item;
  }

  plain(): void {}
}

class Unrelated {
  method(): void {}
}

describe('@Flow() and @Step()', () => {
  const accessor = new PgflowMetadataAccessor();

  it('store their options as given, without validating them', () => {
    expect(Reflect.getMetadata(FLOW_METADATA, DecoratedFlow)).toEqual({
      options: { slug: 'decorated', maxAttempts: 2 },
    });
    expect(Reflect.getMetadata(STEP_METADATA, DecoratedFlow.prototype.first)).toEqual({ options: {} });
    const declare = () => {
      @Flow({ slug: 'not valid!', timeout: -1 })
      class Invalid {
        @Step({ dependsOn: 'x' as never })
        step(): void {}
      }
      return Invalid;
    };
    expect(declare).not.toThrow();
  });

  it('leave the class an ordinary injectable: constructor parameter types stay readable by Nest', () => {
    expect(Reflect.getMetadata('design:paramtypes', DecoratedFlow)).toEqual([Helper]);
  });

  it('are read back by the metadata accessor, steps in declaration order', () => {
    const metadata = accessor.read(DecoratedFlow);
    expect(metadata).toEqual({
      flowClass: DecoratedFlow,
      flowOptions: { slug: 'decorated', maxAttempts: 2 },
      hasFlowDecorator: true,
      steps: [
        { methodName: 'first', options: {} },
        { methodName: 'eachItem', options: { dependsOn: ['first'], map: true, slug: 'each_item' } },
      ],
      misplacedSteps: [],
      schedules: [],
    });
  });

  it('the accessor tells flows from other classes', () => {
    expect(accessor.isFlow(DecoratedFlow)).toBe(true);
    expect(accessor.isFlow(Unrelated)).toBe(false);
    expect(accessor.isFlow('decorated')).toBe(false);
    expect(accessor.read(Unrelated)).toBeUndefined();
    expect(accessor.getDeclaredSlug(DecoratedFlow)).toBe('decorated');
    expect(accessor.getDeclaredSlug(Unrelated)).toBeUndefined();
  });

  it('the accessor reports @Step() methods of a class without @Flow()', () => {
    class StepsOnly {
      @Step()
      lonely(): void {}
    }
    expect(accessor.read(StepsOnly)).toMatchObject({ hasFlowDecorator: false, flowOptions: undefined });
    expect(accessor.read(StepsOnly)?.steps).toEqual([{ methodName: 'lonely', options: {} }]);
  });
});
