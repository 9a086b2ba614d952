import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { ENGINE_DEFAULTS } from '../pgflow.constants.ts';
import type { StepInput } from '../types/flow-types.ts';
import type { MapStepContext, StepContext } from '../types/step-context.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';

function context(overrides: Partial<StepContext> = {}): StepContext {
  return {
    runId: 'run',
    flowSlug: 'flow',
    stepSlug: 'step',
    taskIndex: 0,
    attempt: 1,
    flowInput: {},
    signal: new AbortController().signal,
    kind: 'single',
    ...overrides,
  };
}

class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Flow({ slug: 'analyze_website', maxAttempts: 5, timeout: 30 })
class AnalyzeWebsiteFlow {
  constructor(private readonly greeter = new Greeter()) {}

  // Declared before its dependency on purpose: the definition must reorder it.
  @Step({ dependsOn: ['summary', 'check_link'], baseDelay: 2, startDelay: 1 })
  save(deps: StepInput<AnalyzeWebsiteFlow, 'summary'>): string {
    return deps.summary;
  }

  @Step()
  website(input: { url: string }): { links: string[] } {
    return { links: [input.url] };
  }

  @Step({ dependsOn: ['website'], if: { website: { ok: true } }, whenUnmet: 'skip-cascade', whenExhausted: 'skip' })
  summary(deps: StepInput<AnalyzeWebsiteFlow, 'website'>, ctx: StepContext): string {
    return `${this.greeter.greet(ctx.stepSlug)}: ${deps.website.links.length}`;
  }

  @Step({ slug: 'check_link', dependsOn: ['website'], map: true, maxAttempts: 1, ifNot: { skip: true } })
  checkLink(url: string, _ctx: MapStepContext): boolean {
    return url.startsWith('https');
  }

  notAStep(): void {}
}

describe('buildFlowDefinition (a valid flow)', () => {
  const definition = flowDefinitionOf(new AnalyzeWebsiteFlow());
  const step = (slug: string) => definition.stepsBySlug.get(slug);

  it('names the flow and keeps its class and instance', () => {
    expect(definition.slug).toBe('analyze_website');
    expect(definition.className).toBe('AnalyzeWebsiteFlow');
    expect(definition.flowClass).toBe(AnalyzeWebsiteFlow);
    expect(definition.instance).toBeInstanceOf(AnalyzeWebsiteFlow);
    expect(definition.options).toEqual({ maxAttempts: 5, timeout: 30 });
  });

  it('orders the steps after their dependencies, keeping declaration order where it can', () => {
    expect(definition.steps.map((s) => s.slug)).toEqual(['website', 'summary', 'check_link', 'save']);
    expect(definition.steps.map((s) => s.index)).toEqual([0, 1, 2, 3]);
  });

  it('takes only @Step() methods, with their slug (method name by default) and method name', () => {
    expect(step('check_link')?.methodName).toBe('checkLink');
    expect(step('website')?.methodName).toBe('website');
    expect(definition.stepsBySlug.has('notAStep')).toBe(false);
  });

  it('applies the documented defaults', () => {
    expect(step('website')).toMatchObject({
      dependsOn: [],
      stepType: 'single',
      options: {},
      requiredInputPattern: null,
      forbiddenInputPattern: null,
      whenUnmet: 'skip',
      whenExhausted: 'fail',
    });
  });

  it('keeps the step options as given', () => {
    expect(step('summary')).toMatchObject({
      dependsOn: ['website'],
      requiredInputPattern: { website: { ok: true } },
      whenUnmet: 'skip-cascade',
      whenExhausted: 'skip',
    });
    expect(step('check_link')).toMatchObject({
      stepType: 'map',
      options: { maxAttempts: 1 },
      forbiddenInputPattern: { skip: true },
    });
    expect(step('save')?.options).toEqual({ baseDelay: 2, startDelay: 1 });
    expect(step('save')?.dependsOn).toEqual(['summary', 'check_link']);
  });

  it('resolves effective options: the step, else the flow, else the engine default', () => {
    expect(step('website')?.effectiveOptions).toEqual({
      maxAttempts: 5,
      baseDelay: ENGINE_DEFAULTS.baseDelay,
      timeout: 30,
      startDelay: 0,
    });
    expect(step('check_link')?.effectiveOptions.maxAttempts).toBe(1);
    expect(step('save')?.effectiveOptions).toEqual({ maxAttempts: 5, baseDelay: 2, timeout: 30, startDelay: 1 });
  });

  it('lists no root map step when the only map step has a dependency', () => {
    expect(definition.rootMapSteps).toEqual([]);
  });

  it('runs handlers on the instance (injected services work), with input and context', async () => {
    const output = await step('summary')?.handler({ website: { links: ['a', 'b'] } }, context({ stepSlug: 'summary' }));
    expect(output).toBe('hello summary: 2');
  });

  it('looks the method up at each call, so a replacement installed after boot is the one that runs', () => {
    const instance = definition.instance as AnalyzeWebsiteFlow;
    const calls: unknown[][] = [];
    instance.website = (...args: [{ url: string }]) => {
      calls.push(args);
      return { links: ['replaced'] };
    };
    try {
      const ctx = context();
      expect(step('website')?.handler({ url: 'x' }, ctx)).toEqual({ links: ['replaced'] });
      expect(calls).toEqual([[{ url: 'x' }, ctx]]);
    } finally {
      Reflect.deleteProperty(instance, 'website');
    }
  });

  it('passes a handler error through to the caller (the worker fails the attempt)', () => {
    const failing = new Error('boom');
    const instance = definition.instance as AnalyzeWebsiteFlow;
    instance.website = () => {
      throw failing;
    };
    try {
      expect(() => step('website')?.handler({ url: 'x' }, context())).toThrow(failing);
    } finally {
      Reflect.deleteProperty(instance, 'website');
    }
  });

  it('is frozen, and independent of the decorator options objects', () => {
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.steps)).toBe(true);
    expect(Object.isFrozen(step('summary'))).toBe(true);
    expect(Object.isFrozen(step('summary')?.requiredInputPattern)).toBe(true);
    expect(Object.isFrozen(step('summary')?.dependsOn)).toBe(true);
  });
});

describe('buildFlowDefinition (other shapes)', () => {
  it('lists root map steps, which make the run input an array', () => {
    @Flow({ slug: 'root_map' })
    class RootMapFlow {
      @Step({ map: true })
      double(item: number, _ctx: MapStepContext): number {
        return item * 2;
      }
    }
    expect(flowDefinitionOf(new RootMapFlow()).rootMapSteps).toEqual(['double']);
  });

  it('accepts maxAttempts 1, baseDelay 0 and startDelay 0', () => {
    @Flow({ slug: 'zeros', maxAttempts: 1, baseDelay: 0 })
    class ZerosFlow {
      @Step({ startDelay: 0, baseDelay: 0 })
      only(): void {}
    }
    const definition = flowDefinitionOf(new ZerosFlow());
    expect(definition.options).toEqual({ maxAttempts: 1, baseDelay: 0 });
    expect(definition.steps[0]?.effectiveOptions).toEqual({ maxAttempts: 1, baseDelay: 0, timeout: 60, startDelay: 0 });
  });

  it('includes steps inherited from a base class, and a subclass inherits @Flow()', () => {
    @Flow({ slug: 'base_flow' })
    class BaseFlow {
      @Step()
      first(): number {
        return 1;
      }
    }
    class ExtendedFlow extends BaseFlow {
      @Step({ dependsOn: ['first'] })
      second(): number {
        return 2;
      }
    }
    const definition = flowDefinitionOf(new ExtendedFlow());
    expect(definition.slug).toBe('base_flow');
    expect(definition.flowClass).toBe(ExtendedFlow);
    expect(definition.steps.map((s) => s.slug)).toEqual(['first', 'second']);
  });

  it('does not see later changes to the options object given to the decorator', () => {
    const options = { slug: 'stable', timeout: 10 };
    @Flow(options)
    class StableFlow {
      @Step()
      only(): void {}
    }
    options.timeout = 0;
    expect(flowDefinitionOf(new StableFlow()).options).toEqual({ timeout: 10 });
  });
});
