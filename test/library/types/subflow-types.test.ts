/**
 * Type tests of subflow steps: a step that returns `subflowInput(ChildFlow, input)` outputs the child
 * flow's FlowOutput, as its dependents see it (StepOutput, StepInput, MapItem, FlowOutput); the
 * input is checked against the child's FlowInput. This file fails to compile (`npm run check`) when
 * inference breaks; each `@ts-expect-error` line must fail to compile.
 */
import {
  Flow,
  type FlowOutput,
  type MapItem,
  type MapStepContext,
  Step,
  type StepInput,
  type StepOutput,
  SubflowInput,
  subflowInput,
} from 'nestjs-pgflow';
import { flowDefinitionOf } from '../../../libs/pgflow/src/definition/index.ts';

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Compiles only when T is `true`; does nothing at run time. */
function assertType<T extends true>(): T | undefined {
  return undefined;
}

@Flow({ slug: 'check_group' })
class CheckGroupFlow {
  @Step()
  fetchAll(input: { urls: string[] }): number[] {
    return input.urls.map(() => 200);
  }

  @Step({ dependsOn: ['fetchAll'] })
  verdict(deps: StepInput<CheckGroupFlow, 'fetchAll'>) {
    return { broken: deps.fetchAll.filter((status) => status !== 200).length };
  }
}

@Flow({ slug: 'check_site' })
class CheckSiteFlow {
  @Step()
  groups(input: { urls: string[] }): { urls: string[] }[] {
    return [{ urls: input.urls }];
  }

  @Step({ dependsOn: ['groups'], map: true, subflow: CheckGroupFlow })
  checkGroup(group: MapItem<CheckSiteFlow, 'groups'>, _ctx: MapStepContext) {
    return subflowInput(CheckGroupFlow, { urls: group.urls });
  }

  @Step({ dependsOn: ['groups'], subflow: CheckGroupFlow })
  async checkFirst(deps: StepInput<CheckSiteFlow, 'groups'>) {
    return subflowInput(CheckGroupFlow, { urls: deps.groups[0]?.urls ?? [] });
  }

  @Step({ dependsOn: ['checkGroup', 'checkFirst'] })
  total(deps: StepInput<CheckSiteFlow, 'checkGroup' | 'checkFirst'>): number {
    const first = deps.checkFirst.verdict?.broken ?? 0;
    return deps.checkGroup.reduce((sum, child) => sum + (child.verdict?.broken ?? 0), first);
  }
}

type Child = FlowOutput<CheckGroupFlow>;
assertType<Equals<Child, { verdict?: { broken: number } }>>();
// A subflow step's output is its child run's output; a map subflow step's, one per element.
assertType<Equals<StepOutput<CheckSiteFlow, 'checkFirst'>, Child>>();
assertType<Equals<StepOutput<CheckSiteFlow, 'checkGroup'>, Child[]>>();
assertType<Equals<StepInput<CheckSiteFlow, 'checkGroup'>['checkGroup'], Child[]>>();
assertType<Equals<FlowOutput<CheckSiteFlow>, { total?: number }>>();
assertType<ReturnType<CheckSiteFlow['checkGroup']> extends SubflowInput<CheckGroupFlow> ? true : false>();

// The child run's input is checked against the child flow's input.
// @ts-expect-error: CheckGroupFlow takes { urls: string[] }
subflowInput(CheckGroupFlow, { url: 'https://example.com' });

describe('subflow types', () => {
  it('the flows of this file build, and subflowInput carries the flow and the input', () => {
    const site = flowDefinitionOf(new CheckSiteFlow());
    expect(site.stepsBySlug.get('checkGroup')?.subflow).toEqual({ flowClass: CheckGroupFlow, slug: 'check_group' });
    expect(site.stepsBySlug.get('total')?.subflow).toBeNull();
    const value = subflowInput(CheckGroupFlow, { urls: ['a'] });
    expect(value).toBeInstanceOf(SubflowInput);
    expect({ flow: value.flow, input: value.input }).toEqual({ flow: CheckGroupFlow, input: { urls: ['a'] } });
  });
});
