import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { flowDefinitionOf } from '../definition/flow-definition.builder.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import type { MapStepContext } from '../types/step-context.ts';
import { subflowErrors } from './subflow-graph.ts';

@Flow({ slug: 'sg_child' })
class ChildFlow {
  @Step()
  only(input: { n: number }) {
    return input.n;
  }
}

@Flow({ slug: 'sg_parent' })
class ParentFlow {
  @Step({ subflow: ChildFlow })
  delegate(input: { n: number }) {
    return input;
  }
}

@Flow({ slug: 'sg_map_over_subflow' })
class MapOverSubflowFlow {
  @Step({ subflow: ChildFlow })
  delegate(input: { n: number }) {
    return input;
  }

  @Step({ dependsOn: ['delegate'], map: true })
  each(item: unknown, _ctx: MapStepContext) {
    return item;
  }
}

@Flow({ slug: 'sg_loop' })
class LoopFlow {
  @Step({ subflow: ChildFlow })
  again(input: unknown) {
    return input;
  }
}
// A flow that starts itself: the option is set here, as a class cannot name itself in its decorators.
Reflect.defineMetadata('pgflow:step', { options: { subflow: LoopFlow } }, LoopFlow.prototype.again);

const child = flowDefinitionOf(new ChildFlow());
const parent = flowDefinitionOf(new ParentFlow());

describe('subflowErrors', () => {
  it('accepts a parent whose child flow is a flow of the application', () => {
    expect(parent.stepsBySlug.get('delegate')?.subflow).toEqual({ flowClass: ChildFlow, slug: 'sg_child' });
    expect(subflowErrors([parent, child])).toEqual([]);
  });

  it('refuses a child flow that is not a flow of the application, naming it and the fix', () => {
    const [error, ...rest] = subflowErrors([parent]);
    expect(rest).toEqual([]);
    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error?.message).toContain("names flow 'sg_child', which is not a flow of this application");
    expect(error?.message).toContain('List ChildFlow in the providers');
  });

  it('refuses a map step over a single subflow step', () => {
    const errors = subflowErrors([flowDefinitionOf(new MapOverSubflowFlow()), child]);
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining("map step over 'delegate'")]);
  });

  it('refuses a cycle, naming it', () => {
    const errors = subflowErrors([flowDefinitionOf(new LoopFlow()), child]);
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringContaining("subflows form a cycle: 'sg_loop' → 'sg_loop'"),
    ]);
  });

  it('refuses a subflow option that is not a @Flow() class at the flow itself', () => {
    class Plain {}
    @Flow({ slug: 'sg_bad_option' })
    class BadOptionFlow {
      @Step({ subflow: Plain })
      delegate() {
        return {};
      }
    }
    expect(() => flowDefinitionOf(new BadOptionFlow())).toThrow(/class Plain has no @Flow\(\) decorator/);
  });
});
