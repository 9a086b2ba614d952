import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import type { FlowDefinitionProblemCode } from '../errors/invalid-flow-definition.error.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import { PgflowErrorCode } from '../errors/pgflow.error.ts';
import type { MapStepContext } from '../types/step-context.ts';
import type { StepOptions } from '../types/step-options.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';

/** The error building the flow of `flowClass` throws. */
function definitionError(flowClass: new () => object): InvalidFlowDefinitionError {
  try {
    flowDefinitionOf(new flowClass());
  } catch (error) {
    if (error instanceof InvalidFlowDefinitionError) return error;
    throw error;
  }
  throw new Error(`expected ${flowClass.name} to be invalid`);
}

/** The one problem of an invalid flow class, checked to have the code and to name class and method. */
function onlyProblem(flowClass: new () => object, code: FlowDefinitionProblemCode, methodName?: string): string {
  const error = definitionError(flowClass);
  expect(error.problems.map((problem) => problem.code)).toEqual([code]);
  const [problem] = error.problems;
  expect(problem?.methodName).toBe(methodName);
  expect(problem?.message).toContain(methodName === undefined ? flowClass.name : `${flowClass.name}.${methodName}()`);
  expect(error.message).toContain(problem?.message);
  return problem?.message ?? '';
}

/** A flow with one step `only` whose options are `options` (typed loosely: the point is bad input). */
function flowWithStep(options: unknown, name = 'OneStepFlow'): new () => object {
  @Flow({ slug: 'one_step' })
  class OneStepFlow {
    @Step(options as StepOptions)
    only(): void {}
  }
  Object.defineProperty(OneStepFlow, 'name', { value: name });
  return OneStepFlow;
}

describe('InvalidFlowDefinitionError', () => {
  it('has a stable code, the class name, the flow slug and the problems', () => {
    @Flow({ slug: 'empty_flow' })
    class EmptyFlow {}
    const error = definitionError(EmptyFlow);
    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error.name).toBe('InvalidFlowDefinitionError');
    expect(error.code).toBe(PgflowErrorCode.InvalidDefinition);
    expect(error.flowClass).toBe('EmptyFlow');
    expect(error.flowSlug).toBe('empty_flow');
    expect(error.message).toMatch(/^Invalid flow class EmptyFlow \(flow 'empty_flow'\): 1 problem\./);
  });

  it('lists every problem of the class at once, numbered', () => {
    @Flow({ slug: 'many_problems', timeout: 0 })
    class ManyProblemsFlow {
      @Step({ dependsOn: ['nowhere'] })
      first(): void {}

      @Step({ slug: 'first' })
      second(): void {}
    }
    const error = definitionError(ManyProblemsFlow);
    expect(error.problems.map((problem) => problem.code)).toEqual([
      'INVALID_OPTION',
      'DUPLICATE_STEP_SLUG',
      'UNKNOWN_DEPENDENCY',
    ]);
    expect(error.message).toContain('3 problems');
    expect(error.message).toMatch(/\n {2}1\. .*\n {2}2\. .*\n {2}3\. /);
  });
});

describe('flow-level problems', () => {
  it('a flow with no steps', () => {
    @Flow({ slug: 'no_steps' })
    class NoStepsFlow {
      helper(): void {}
    }
    expect(onlyProblem(NoStepsFlow, 'NO_STEPS')).toMatch(/has no steps.*@Step\(\)/);
  });

  it('a @Flow() without a slug, suggesting one from the class name', () => {
    @Flow({} as never)
    class AnalyzeWebsiteFlow {
      @Step()
      website(): void {}
    }
    const message = onlyProblem(AnalyzeWebsiteFlow, 'INVALID_FLOW_SLUG');
    expect(message).toMatch(/has no slug/);
    expect(message).toContain("@Flow({ slug: 'analyze_website_flow' })");
  });

  it.each([
    ['with a dash', 'analyze-website', /not a valid slug.*'analyze_website'/],
    ['starting with a digit', '1flow', /not a valid slug/],
    ['the reserved word run', 'run', /reserved/],
    ['longer than a queue name allows (47)', 'f'.repeat(48), /48 characters long, more than the 47 allowed.*queue/],
    ['empty', '', /is empty/],
    ['not a string', 42, /is number, not a string/],
  ])('an invalid flow slug: %s', (_label, slug, expected) => {
    @Flow({ slug: slug as string })
    class BadSlugFlow {
      @Step()
      only(): void {}
    }
    expect(onlyProblem(BadSlugFlow, 'INVALID_FLOW_SLUG')).toMatch(expected);
  });

  it('accepts a flow slug of exactly 47 characters', () => {
    @Flow({ slug: 'f'.repeat(47) })
    class LongSlugFlow {
      @Step()
      only(): void {}
    }
    expect(flowDefinitionOf(new LongSlugFlow()).slug).toHaveLength(47);
  });

  it('@Flow() options that are not an object', () => {
    @Flow('my_flow' as never)
    class StringOptionsFlow {
      @Step()
      only(): void {}
    }
    expect(onlyProblem(StringOptionsFlow, 'INVALID_OPTION')).toMatch(/expects an options object.*got "my_flow"/);
  });

  it('an unknown @Flow() option, suggesting the known one', () => {
    @Flow({ slug: 'typo', maxAttempt: 3 } as never)
    class TypoFlow {
      @Step()
      only(): void {}
    }
    expect(onlyProblem(TypoFlow, 'UNKNOWN_OPTION')).toMatch(
      /unknown option 'maxAttempt' \(did you mean 'maxAttempts'\?\)/,
    );
  });

  it.each([
    ['maxAttempts', 0],
    ['maxAttempts', -1],
    ['maxAttempts', 2.5],
    ['baseDelay', -1],
    ['timeout', 0],
    ['timeout', '60'],
    ['timeout', Number.NaN],
  ])('an invalid flow option: %s = %p', (name, value) => {
    @Flow({ slug: 'bad_option', [name]: value } as never)
    class BadOptionFlow {
      @Step()
      only(): void {}
    }
    const message = onlyProblem(BadOptionFlow, 'INVALID_OPTION');
    expect(message).toContain(`@Flow({ ${name} })`);
    expect(message).toMatch(/expected an integer/);
  });

  it('maxAttempts 0, which the engine would run once anyway, naming the option and that 1 means no retry', () => {
    @Flow({ slug: 'zero_attempts', maxAttempts: 0 })
    class ZeroAttemptsFlow {
      @Step()
      only(): void {}
    }
    expect(onlyProblem(ZeroAttemptsFlow, 'INVALID_OPTION')).toContain(
      '@Flow({ maxAttempts }) is 0; expected an integer from 1 to 2147483647 (attempts in all, the first one ' +
        'included: 1 means no retry), or no maxAttempts for the default.',
    );
  });

  it('@Step() methods on a class without @Flow()', () => {
    class ForgotFlowDecorator {
      @Step()
      first(): void {}

      @Step({ dependsOn: ['first'] })
      second(): void {}
    }
    const message = onlyProblem(ForgotFlowDecorator, 'MISSING_FLOW_DECORATOR');
    expect(message).toMatch(/@Step\(\) methods \(first, second\) but no @Flow\(\)/);
    expect(message).toContain("@Flow({ slug: 'forgot_flow_decorator' })");
  });
});

describe('step-level problems', () => {
  it('an unknown dependency, suggesting a close slug', () => {
    @Flow({ slug: 'unknown_dep' })
    class UnknownDependencyFlow {
      @Step()
      website(): void {}

      @Step({ dependsOn: ['websit'] })
      summary(): void {}
    }
    const message = onlyProblem(UnknownDependencyFlow, 'UNKNOWN_DEPENDENCY', 'summary');
    expect(message).toMatch(/names 'websit', which is not a step of UnknownDependencyFlow\. Did you mean 'website'\?/);
  });

  it('an unknown dependency that is the method name of a step with another slug', () => {
    @Flow({ slug: 'method_name_dep' })
    class MethodNameDependencyFlow {
      @Step({ slug: 'fetch_page' })
      fetchPage(): void {}

      @Step({ dependsOn: ['fetchPage'] })
      summary(): void {}
    }
    const message = onlyProblem(MethodNameDependencyFlow, 'UNKNOWN_DEPENDENCY', 'summary');
    expect(message).toMatch(/'fetchPage' is the method of step 'fetch_page'.*write 'fetch_page'/);
  });

  it('an unknown dependency with nothing close lists the steps', () => {
    @Flow({ slug: 'far_dep' })
    class FarDependencyFlow {
      @Step()
      alpha(): void {}

      @Step({ dependsOn: ['zzzzzz'] })
      beta(): void {}
    }
    expect(onlyProblem(FarDependencyFlow, 'UNKNOWN_DEPENDENCY', 'beta')).toMatch(/Its steps are 'alpha' and 'beta'/);
  });

  it('a duplicate dependency', () => {
    @Flow({ slug: 'dup_dep' })
    class DuplicateDependencyFlow {
      @Step()
      a(): void {}

      @Step({ dependsOn: ['a', 'a'] })
      b(): void {}
    }
    expect(onlyProblem(DuplicateDependencyFlow, 'DUPLICATE_DEPENDENCY', 'b')).toMatch(/lists 'a' twice/);
  });

  it('a self dependency', () => {
    @Flow({ slug: 'self_dep' })
    class SelfDependencyFlow {
      @Step({ dependsOn: ['loop'] })
      loop(): void {}
    }
    expect(onlyProblem(SelfDependencyFlow, 'SELF_DEPENDENCY', 'loop')).toMatch(/depends on itself \('loop'\)/);
  });

  it('a cycle, naming the path', () => {
    @Flow({ slug: 'cyclic' })
    class CyclicFlow {
      @Step({ dependsOn: ['c'] })
      a(): void {}

      @Step({ dependsOn: ['a'] })
      b(): void {}

      @Step({ dependsOn: ['b'] })
      c(): void {}
    }
    const message = onlyProblem(CyclicFlow, 'CYCLE', 'a');
    expect(message).toContain('dependency cycle: a → c → b → a (each depends on the next)');
  });

  it('a duplicate step slug, naming both methods', () => {
    @Flow({ slug: 'dup_slug' })
    class DuplicateSlugFlow {
      @Step()
      save(): void {}

      @Step({ slug: 'save' })
      saveAgain(): void {}
    }
    const message = onlyProblem(DuplicateSlugFlow, 'DUPLICATE_STEP_SLUG', 'saveAgain');
    expect(message).toMatch(/'save' is used by DuplicateSlugFlow\.save\(\) and DuplicateSlugFlow\.saveAgain\(\)/);
  });

  it.each([
    ['with a dash', 'fetch-page', /not a valid slug.*'fetch_page'/],
    ['the reserved word run', 'run', /reserved/],
    ['longer than 128 characters', 's'.repeat(129), /129 characters long, more than the 128 allowed/],
    ['not a string', 7, /is number/],
  ])('an invalid step slug option: %s', (_label, slug, expected) => {
    const message = onlyProblem(flowWithStep({ slug }, 'BadStepSlugFlow'), 'INVALID_STEP_SLUG', 'only');
    expect(message).toMatch(/@Step\(\{ slug \}\)/);
    expect(message).toMatch(expected);
  });

  it('accepts a step slug of 128 characters (longer than a flow slug may be)', () => {
    expect(flowDefinitionOf(new (flowWithStep({ slug: 's'.repeat(128) }))()).steps[0]?.slug).toHaveLength(128);
  });

  it('a method name that is not a valid slug when no slug is given', () => {
    @Flow({ slug: 'reserved_method' })
    class ReservedMethodFlow {
      @Step()
      run(): void {}
    }
    const message = onlyProblem(ReservedMethodFlow, 'INVALID_STEP_SLUG', 'run');
    expect(message).toMatch(/defaults to the method name.*reserved.*@Step\(\{ slug: 'run_step' \}\)/);
  });

  it('a map step with more than one dependency', () => {
    @Flow({ slug: 'map_two_deps' })
    class MapTwoDependenciesFlow {
      @Step()
      left(): number[] {
        return [];
      }

      @Step()
      right(): number[] {
        return [];
      }

      @Step({ dependsOn: ['left', 'right'], map: true })
      each(item: number, _ctx: MapStepContext): number {
        return item;
      }
    }
    const message = onlyProblem(MapTwoDependenciesFlow, 'MAP_STEP_DEPENDENCIES', 'each');
    expect(message).toMatch(/at most one dependency, and it has 2 \('left' and 'right'\)/);
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /plain JSON object pattern.*got null/],
    ['an array', [{ a: 1 }], /got an array of 1/],
    ['a string', 'status = ok', /got "status = ok"/],
    ['a function', () => true, /got a function/],
    ['a class instance', new Date(0), /got an instance of Date/],
    ['a pattern holding a non-JSON value', { limit: 10n }, /is not JSON: if\.limit is a BigInt/],
  ])('an if pattern that is %s', (_label, pattern, expected) => {
    expect(onlyProblem(flowWithStep({ if: pattern }, 'BadIfFlow'), 'INVALID_CONDITION_PATTERN', 'only')).toMatch(
      expected,
    );
  });

  it('an ifNot pattern that is not a plain object', () => {
    const message = onlyProblem(flowWithStep({ ifNot: [] }, 'BadIfNotFlow'), 'INVALID_CONDITION_PATTERN', 'only');
    expect(message).toMatch(/@Step\(\{ ifNot \}\).*must not contain/);
  });

  it('whenUnmet without an if or ifNot pattern', () => {
    const message = onlyProblem(
      flowWithStep({ whenUnmet: 'fail' }, 'NoConditionFlow'),
      'CONDITION_MODE_WITHOUT_PATTERN',
      'only',
    );
    expect(message).toMatch(/whenUnmet: "fail" \}\) has no condition to be unmet/);
  });

  it('an invalid pattern with whenUnmet is one problem, not two', () => {
    onlyProblem(flowWithStep({ if: null, whenUnmet: 'fail' }, 'NullIfFlow'), 'INVALID_CONDITION_PATTERN', 'only');
  });

  it.each([
    ['whenUnmet', { if: { a: 1 }, whenUnmet: 'skipped' }, /expected 'skip', 'skip-cascade' or 'fail'/],
    ['whenExhausted', { whenExhausted: 'retry' }, /expected 'fail', 'skip' or 'skip-cascade'/],
  ])('%s outside the allowed values', (name, options, expected) => {
    const message = onlyProblem(flowWithStep(options, 'BadModeFlow'), 'INVALID_OPTION', 'only');
    expect(message).toContain(`@Step({ ${name} })`);
    expect(message).toMatch(expected);
  });

  it.each([
    ['maxAttempts', 0],
    ['maxAttempts', -1],
    ['maxAttempts', 1.5],
    ['baseDelay', -5],
    ['timeout', 0],
    ['timeout', -1],
    ['startDelay', -1],
    ['startDelay', 0.5],
    ['timeout', 31_536_001],
    ['maxAttempts', '3'],
  ])('an invalid numeric step option: %s = %p', (name, value) => {
    const message = onlyProblem(flowWithStep({ [name]: value }, 'BadNumberFlow'), 'INVALID_OPTION', 'only');
    expect(message).toContain(`@Step({ ${name} })`);
    expect(message).toMatch(/expected an integer/);
  });

  it('map that is not a boolean', () => {
    expect(onlyProblem(flowWithStep({ map: 'yes' }, 'BadMapFlow'), 'INVALID_OPTION', 'only')).toMatch(
      /map \}\) must be true or false, got "yes"/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['a string', 'website', /must be an array of step slugs.*got "website"/],
    ['an array holding a non-string', ['a', 3], /holds 3 at index 1/],
  ])('dependsOn that is %s', (_label, dependsOn, expected) => {
    expect(onlyProblem(flowWithStep({ dependsOn }, 'BadDependsOnFlow'), 'INVALID_DEPENDS_ON', 'only')).toMatch(
      expected,
    );
  });

  it('an unknown @Step() option, suggesting the known one', () => {
    expect(onlyProblem(flowWithStep({ depends: ['a'] }, 'TypoStepFlow'), 'UNKNOWN_OPTION', 'only')).toMatch(
      /unknown option 'depends' \(did you mean 'dependsOn'\?\)/,
    );
  });

  it('@Step() options that are not an object', () => {
    expect(onlyProblem(flowWithStep('website', 'StringStepFlow'), 'INVALID_OPTION', 'only')).toMatch(
      /expects an options object/,
    );
  });
});

describe('@Step() on something that is not an instance method', () => {
  const asAny = (decorator: unknown) => decorator as (target: object, key: string | symbol, d?: unknown) => void;

  it('a property', () => {
    @Flow({ slug: 'on_property' })
    class OnPropertyFlow {
      @Step()
      ok(): void {}
    }
    asAny(Step())(OnPropertyFlow.prototype, 'notAMethod');
    expect(onlyProblem(OnPropertyFlow, 'STEP_NOT_A_METHOD')).toMatch(/on a property \(not a method\), 'notAMethod'/);
  });

  it('an accessor', () => {
    @Flow({ slug: 'on_getter' })
    class OnGetterFlow {
      @Step()
      ok(): void {}
    }
    asAny(Step())(OnGetterFlow.prototype, 'value', { get: () => 1, configurable: true });
    expect(onlyProblem(OnGetterFlow, 'STEP_NOT_A_METHOD')).toMatch(/an accessor/);
  });

  it('a static method', () => {
    @Flow({ slug: 'on_static' })
    class OnStaticFlow {
      @Step()
      ok(): void {}

      @Step()
      static helper(): void {}
    }
    expect(onlyProblem(OnStaticFlow, 'STEP_NOT_A_METHOD')).toMatch(/a static member.*'helper'/);
  });

  it('a symbol-named method', () => {
    const key = Symbol('hidden');
    @Flow({ slug: 'on_symbol' })
    class OnSymbolFlow {
      @Step()
      ok(): void {}

      @Step()
      [key](): void {}
    }
    expect(onlyProblem(OnSymbolFlow, 'STEP_NOT_A_METHOD')).toMatch(/symbol-named.*'Symbol\(hidden\)'/);
  });

  it('the same method twice', () => {
    @Flow({ slug: 'twice' })
    class TwiceFlow {
      @Step()
      @Step({ slug: 'other' })
      ok(): void {}
    }
    expect(onlyProblem(TwiceFlow, 'STEP_NOT_A_METHOD')).toMatch(/already has @Step\(\) \(twice\), 'ok'/);
  });
});
