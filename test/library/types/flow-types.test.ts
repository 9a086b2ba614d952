/**
 * Type tests of the helper types: this file fails to compile (`npm run check`) when inference breaks.
 * `assertType<Equals<A, B>>()` compiles only when A and B are the same type; each `@ts-expect-error`
 * line must fail to compile. The runtime test checks that the same flows build.
 */
import {
  Flow,
  type FlowInput,
  type FlowOutput,
  type MapItem,
  type MapStepContext,
  Step,
  type StepContext,
  type StepInput,
  type StepOutput,
} from 'nestjs-pgflow';
import { flowDefinitionOf } from '../../../libs/pgflow/src/definition/index.ts';

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Compiles only when T is `true`; does nothing at run time. */
function assertType<T extends true>(): T | undefined {
  return undefined;
}

interface Page {
  url: string;
  title: string;
  links: string[];
}

class Scraper {
  async fetch(url: string): Promise<Page> {
    return { url, title: url, links: [`${url}/a`, `${url}/b`] };
  }
}

/** A root step, two parallel steps, a map over one of them, and a fan-in step. */
@Flow({ slug: 'analyze_website' })
class AnalyzeWebsiteFlow {
  constructor(private readonly scraper: Scraper) {}

  @Step()
  website(input: { url: string }, _ctx: StepContext<{ url: string }>): Promise<Page> {
    return this.scraper.fetch(input.url);
  }

  @Step({ dependsOn: ['website'] })
  summary(deps: StepInput<AnalyzeWebsiteFlow, 'website'>) {
    return { title: deps.website.title, words: deps.website.title.split(' ').length };
  }

  @Step({ dependsOn: ['website'] })
  links(deps: StepInput<AnalyzeWebsiteFlow, 'website'>): string[] {
    return deps.website.links;
  }

  @Step({ dependsOn: ['links'], map: true })
  async checkLink(url: MapItem<AnalyzeWebsiteFlow, 'links'>, ctx: MapStepContext<{ url: string }>) {
    return { url: `${url}`, status: ctx.taskIndex === 0 ? 200 : 404 };
  }

  @Step({ dependsOn: ['summary', 'checkLink'] })
  save(deps: StepInput<AnalyzeWebsiteFlow, 'summary' | 'checkLink'>) {
    const broken = deps.checkLink.filter((link) => link.status !== 200).length;
    return { title: `${this.label()}: ${deps.summary.title}`, broken };
  }

  /** Helpers are private, so that the helper types do not take them for steps. */
  private label(): string {
    return 'analyzed';
  }
}

type F = AnalyzeWebsiteFlow;
type LinkCheck = { url: string; status: number };

// StepOutput: the awaited return type; an array of it for a map step.
assertType<Equals<StepOutput<F, 'website'>, Page>>();
assertType<Equals<StepOutput<F, 'summary'>, { title: string; words: number }>>();
assertType<Equals<StepOutput<F, 'links'>, string[]>>();
assertType<Equals<StepOutput<F, 'checkLink'>, LinkCheck[]>>();

// StepInput: one key per dependency, holding its output (an array for a map dependency).
assertType<Equals<StepInput<F, 'website'>['website'], Page>>();
assertType<Equals<StepInput<F, 'summary' | 'checkLink'>['checkLink'], LinkCheck[]>>();
assertType<Equals<Extract<keyof StepInput<F, 'summary' | 'checkLink'>, string>, 'summary' | 'checkLink'>>();

// MapItem: one element of the dependency's array, usable as the element.
assertType<MapItem<F, 'links'> extends string ? true : false>();

// FlowInput: the root single step's input. FlowOutput: the leaves, each optional.
assertType<Equals<FlowInput<F>, { url: string }>>();
assertType<Equals<FlowOutput<F>, { save?: { title: string; broken: number } }>>();

// The context's kind tells map steps apart.
assertType<Equals<MapStepContext['kind'], 'map'>>();
assertType<Equals<StepContext['kind'], 'single' | 'map'>>();

@Flow({ slug: 'edge_cases' })
class EdgeCasesFlow {
  @Step()
  tenant(input: { tenantId: number }): void {
    void input;
  }

  @Step()
  region(input: { region: string }): Promise<void> {
    return Promise.resolve(input ? undefined : undefined);
  }

  @Step()
  clock(): number {
    return 0;
  }

  @Step({ dependsOn: ['tenant', 'clock'], if: { tenant: null } })
  maybe(deps: Partial<StepInput<EdgeCasesFlow, 'tenant' | 'clock'>>): string | undefined {
    return deps.clock === undefined ? undefined : 'ticked';
  }

  onModuleInit(): void {}
}

type E = EdgeCasesFlow;
// Returning nothing outputs null (the engine stores null), including a Promise<void> and `| undefined`.
assertType<Equals<StepOutput<E, 'tenant'>, null>>();
assertType<Equals<StepOutput<E, 'region'>, null>>();
assertType<Equals<StepOutput<E, 'maybe'>, string | null>>();
// Several root steps: their inputs intersect; a root step without parameters adds nothing.
assertType<Equals<FlowInput<E>, { tenantId: number } & { region: string }>>();
// A Partial<StepInput> still records its dependencies; lifecycle hooks are not steps.
assertType<Equals<keyof FlowOutput<E>, 'region' | 'maybe'>>();

@Flow({ slug: 'only_maps' })
class OnlyMapsFlow {
  @Step({ map: true })
  double(item: number, _ctx: MapStepContext): number {
    return item * 2;
  }
}
// Root map steps take an array the types cannot tell from a dependent map's: no root single step, unknown.
assertType<Equals<FlowInput<OnlyMapsFlow>, unknown>>();
assertType<Equals<FlowOutput<OnlyMapsFlow>, { double?: number[] }>>();

// What must not compile.
// @ts-expect-error 'nope' is not a step of the flow
function unknownStep(input: StepInput<F, 'nope'>): unknown {
  return input;
}
// A StepInput has no key for a step it does not depend on.
assertType<Equals<StepInput<F, 'website'> extends { summary: unknown } ? true : false, false>>();

@Flow({ slug: 'misuses' })
class MisusesFlow {
  // @ts-expect-error a map step must declare its context as MapStepContext
  @Step({ map: true })
  mapWithoutContext(item: string): string {
    return item;
  }

  // @ts-expect-error a MapStepContext handler needs map: true
  @Step()
  contextWithoutMap(item: string, _ctx: MapStepContext): string {
    return item;
  }

  // @ts-expect-error @Step() is for methods
  @Step()
  notAMethod = 1;

  // @ts-expect-error whenUnmet takes 'skip', 'skip-cascade' or 'fail'
  @Step({ if: { a: 1 }, whenUnmet: 'skipped' })
  badMode(): void {}

  // @ts-expect-error dependsOn takes an array
  @Step({ dependsOn: 'website' })
  badDependsOn(): void {}
}

// @ts-expect-error a flow needs a slug
@Flow({ maxAttempts: 3 })
class NoSlugFlow {}

function readsOutput(output: FlowOutput<F>): number {
  // @ts-expect-error a leaf's key is optional (a skipped leaf has none)
  const broken: number = output.save.broken;
  return broken;
}

/** What exists only to be type-checked. */
const compileOnly = [MisusesFlow, NoSlugFlow, readsOutput, unknownStep];

describe('helper types', () => {
  it('describe a flow that builds', () => {
    const definition = flowDefinitionOf(new AnalyzeWebsiteFlow(new Scraper()));
    expect(definition.steps.map((step) => step.slug)).toEqual(['website', 'summary', 'links', 'checkLink', 'save']);
    expect(flowDefinitionOf(new EdgeCasesFlow()).steps).toHaveLength(4);
    expect(flowDefinitionOf(new OnlyMapsFlow()).rootMapSteps).toEqual(['double']);
    expect(compileOnly).toHaveLength(4);
  });
});
