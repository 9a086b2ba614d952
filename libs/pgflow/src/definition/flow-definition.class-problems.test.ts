/**
 * Invalid flow classes whose problem is the class's own (its @Flow(), or a @Step() that is not on an
 * instance method), and the InvalidFlowDefinitionError that lists a class's problems.
 */
import { definitionError, onlyProblem } from '../../../../test/library/support/flow-definition-problems.ts';
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import { PgflowErrorCode } from '../errors/pgflow.error.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';

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
