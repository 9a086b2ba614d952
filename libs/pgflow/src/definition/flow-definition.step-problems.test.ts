/** Invalid flow classes whose problem is one step's: its options, its slug or its dependencies. */
import { onlyProblem } from '../../../../test/library/support/flow-definition-problems.ts';
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import type { MapStepContext } from '../types/step-context.ts';
import type { StepOptions } from '../types/step-options.ts';
import { flowDefinitionOf } from './flow-definition.builder.ts';

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
