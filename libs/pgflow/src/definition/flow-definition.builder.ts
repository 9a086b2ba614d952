import {
  type FlowClassMetadata,
  PgflowMetadataAccessor,
  type StepMethodMetadata,
} from '../discovery/pgflow-metadata.accessor.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import { describeValue } from '../errors/invalid-options.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import type { JsonObject } from '../json/json-value.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import { ENGINE_DEFAULTS } from '../pgflow.constants.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { FlowRetryOptions, StepType, WhenExhausted, WhenUnmet } from '../types/step-options.ts';
import type { FlowDefinition, StepDefinition, StepHandler, StepOptionValues } from './flow-definition.ts';
import { type NumericOptionName, numericOptionProblem, unknownKeyProblems } from './option-rules.ts';
import { closest, ProblemList, quoteList } from './problem-list.ts';
import { slugProblem, toSlug } from './slug.ts';
import { findCycles, topologicalOrder } from './step-graph.ts';

const FLOW_OPTION_KEYS = ['slug', 'maxAttempts', 'baseDelay', 'timeout'];
const STEP_OPTION_KEYS = [
  'slug',
  'dependsOn',
  'map',
  'maxAttempts',
  'baseDelay',
  'timeout',
  'startDelay',
  'if',
  'ifNot',
  'whenUnmet',
  'whenExhausted',
];
const RETRY_OPTIONS: readonly NumericOptionName[] = ['maxAttempts', 'baseDelay', 'timeout'];
const STEP_NUMERIC_OPTIONS: readonly NumericOptionName[] = [...RETRY_OPTIONS, 'startDelay'];
const WHEN_UNMET: readonly WhenUnmet[] = ['skip', 'skip-cascade', 'fail'];
const WHEN_EXHAUSTED: readonly WhenExhausted[] = ['fail', 'skip', 'skip-cascade'];

/** A step as read from its options; fields are undefined where the options were invalid. */
interface StepDraft {
  readonly methodName: string;
  readonly slug: string | undefined;
  readonly dependsOn: readonly string[] | undefined;
  readonly stepType: StepType;
  readonly options: StepOptionValues;
  readonly requiredInputPattern: JsonObject | null;
  readonly forbiddenInputPattern: JsonObject | null;
  readonly whenUnmet: WhenUnmet;
  readonly whenExhausted: WhenExhausted;
}

/**
 * Validates what the decorators recorded on a class and turns it into a {@link FlowDefinition}
 * whose handlers run on `instance`. Throws an {@link InvalidFlowDefinitionError} listing every
 * problem of the class.
 */
export function buildFlowDefinition(metadata: FlowClassMetadata, instance: object): FlowDefinition {
  const className = metadata.flowClass.name || '(anonymous class)';
  const problems = new ProblemList(className);
  const flow = readFlowOptions(metadata, problems);
  for (const misplaced of metadata.misplacedSteps) {
    problems.add(
      'STEP_NOT_A_METHOD',
      `@Step() is on ${misplaced.target}, '${misplaced.propertyKey}'. Put @Step() on an instance method (once), ` +
        'or remove it.',
    );
  }
  const drafts = metadata.steps.map((step) => readStep(step, problems));
  if (drafts.length === 0 && metadata.hasFlowDecorator) {
    problems.add('NO_STEPS', 'the flow has no steps. Decorate at least one instance method with @Step().');
  }
  checkDuplicateSlugs(drafts, problems);
  checkDependencies(drafts, problems);
  if (problems.size > 0) throw new InvalidFlowDefinitionError(className, flow.slug, problems.list());
  return assemble(metadata, className, flow as { slug: string; options: FlowRetryOptions }, drafts, instance);
}

function readFlowOptions(
  metadata: FlowClassMetadata,
  problems: ProblemList,
): { slug: string | undefined; options: FlowRetryOptions } {
  const example = `{ slug: '${toSlug(metadata.flowClass.name || 'my_flow')}' }`;
  if (!metadata.hasFlowDecorator) {
    const methods = metadata.steps.map((step) => step.methodName);
    problems.add(
      'MISSING_FLOW_DECORATOR',
      `the class has @Step() methods (${methods.join(', ') || 'misplaced ones'}) but no @Flow() decorator, so its ` +
        `steps would never run. Add @Flow(${example}) to the class, or remove the @Step() decorators.`,
    );
    return { slug: undefined, options: {} };
  }
  const raw = metadata.flowOptions;
  if (!isPlainObject(raw)) {
    problems.add('INVALID_OPTION', `@Flow() expects an options object like ${example}, got ${describeValue(raw)}.`);
    return { slug: undefined, options: {} };
  }
  for (const text of unknownKeyProblems(raw, FLOW_OPTION_KEYS)) problems.add('UNKNOWN_OPTION', `@Flow(): ${text}.`);
  let slug: string | undefined;
  if (raw.slug === undefined) {
    problems.add(
      'INVALID_FLOW_SLUG',
      '@Flow() has no slug. A flow slug names the flow and its queue in the database, so it is never derived ' +
        `from the class name (renaming the class would orphan its runs): add @Flow(${example}).`,
    );
  } else {
    const problem = slugProblem(raw.slug, 'flow');
    if (problem === undefined) slug = raw.slug as string;
    else problems.add('INVALID_FLOW_SLUG', `@Flow({ slug }) ${problem}.`);
  }
  return { slug, options: readNumericOptions(raw, RETRY_OPTIONS, '@Flow', problems) };
}

function readStep(step: StepMethodMetadata, problems: ProblemList): StepDraft {
  const { methodName } = step;
  const raw = step.options === undefined ? {} : step.options;
  const draft: StepDraft = {
    methodName,
    slug: undefined,
    dependsOn: undefined,
    stepType: 'single',
    options: {},
    requiredInputPattern: null,
    forbiddenInputPattern: null,
    whenUnmet: 'skip',
    whenExhausted: 'fail',
  };
  if (!isPlainObject(raw)) {
    problems.add(
      'INVALID_OPTION',
      `@Step() expects an options object like { dependsOn: ['...'] }, got ${describeValue(raw)}.`,
      methodName,
    );
    return draft;
  }
  for (const text of unknownKeyProblems(raw, STEP_OPTION_KEYS))
    problems.add('UNKNOWN_OPTION', `@Step(): ${text}.`, methodName);
  const requiredInputPattern = readPattern(raw, 'if', methodName, problems);
  const forbiddenInputPattern = readPattern(raw, 'ifNot', methodName, problems);
  return {
    methodName,
    slug: readStepSlug(raw.slug, methodName, problems),
    dependsOn: readDependsOn(raw.dependsOn, methodName, problems),
    stepType: readMap(raw.map, methodName, problems),
    options: readNumericOptions(raw, STEP_NUMERIC_OPTIONS, '@Step', problems, methodName),
    requiredInputPattern,
    forbiddenInputPattern,
    whenUnmet: readWhenUnmet(
      raw,
      requiredInputPattern !== null || forbiddenInputPattern !== null,
      methodName,
      problems,
    ),
    whenExhausted: readChoice(raw.whenExhausted, 'whenExhausted', WHEN_EXHAUSTED, methodName, problems) ?? 'fail',
  };
}

function readStepSlug(slug: unknown, methodName: string, problems: ProblemList): string | undefined {
  if (slug === undefined) {
    const problem = slugProblem(methodName, 'step');
    if (problem === undefined) return methodName;
    problems.add(
      'INVALID_STEP_SLUG',
      `the step slug defaults to the method name, and ${problem}: set @Step({ slug: '${toSlug(methodName)}' }) ` +
        'or rename the method.',
      methodName,
    );
    return undefined;
  }
  const problem = slugProblem(slug, 'step');
  if (problem === undefined) return slug as string;
  problems.add('INVALID_STEP_SLUG', `@Step({ slug }) ${problem}.`, methodName);
  return undefined;
}

function readDependsOn(value: unknown, methodName: string, problems: ProblemList): readonly string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(
      'INVALID_DEPENDS_ON',
      `@Step({ dependsOn }) must be an array of step slugs, like ['website'], got ${describeValue(value)}.`,
      methodName,
    );
    return undefined;
  }
  const bad = value.findIndex((item) => typeof item !== 'string');
  if (bad !== -1) {
    problems.add(
      'INVALID_DEPENDS_ON',
      `@Step({ dependsOn }) holds ${describeValue(value[bad])} at index ${bad}; it must hold step slugs (strings).`,
      methodName,
    );
    return undefined;
  }
  return value as string[];
}

function readMap(value: unknown, methodName: string, problems: ProblemList): StepType {
  if (value === undefined || value === false) return 'single';
  if (value === true) return 'map';
  problems.add('INVALID_OPTION', `@Step({ map }) must be true or false, got ${describeValue(value)}.`, methodName);
  return 'single';
}

function readNumericOptions(
  raw: Record<string, unknown>,
  names: readonly NumericOptionName[],
  decorator: '@Flow' | '@Step',
  problems: ProblemList,
  methodName?: string,
): StepOptionValues {
  const options: Record<string, number> = {};
  for (const name of names) {
    const problem = numericOptionProblem(name, raw[name]);
    if (problem !== undefined) problems.add('INVALID_OPTION', `${decorator}({ ${name} }) ${problem}.`, methodName);
    else if (raw[name] !== undefined) options[name] = raw[name] as number;
  }
  return options;
}

function readPattern(
  raw: Record<string, unknown>,
  name: 'if' | 'ifNot',
  methodName: string,
  problems: ProblemList,
): JsonObject | null {
  const value = raw[name];
  if (value === undefined) return null;
  const meaning = name === 'if' ? 'must contain' : 'must not contain';
  if (!isPlainObject(value)) {
    problems.add(
      'INVALID_CONDITION_PATTERN',
      `@Step({ ${name} }) must be a plain JSON object pattern, like { status: 'active' } (the step's condition ` +
        `input ${meaning} it), got ${describeValue(value)}.`,
      methodName,
    );
    return null;
  }
  try {
    return deepFreeze(structuredClone(toJsonValue(value, name))) as JsonObject;
  } catch (error) {
    if (!(error instanceof NotJsonError)) throw error;
    problems.add('INVALID_CONDITION_PATTERN', `@Step({ ${name} }) is not JSON: ${error.message}.`, methodName);
    return null;
  }
}

function readWhenUnmet(
  raw: Record<string, unknown>,
  hasCondition: boolean,
  methodName: string,
  problems: ProblemList,
): WhenUnmet {
  const value = readChoice(raw.whenUnmet, 'whenUnmet', WHEN_UNMET, methodName, problems);
  if (raw.whenUnmet !== undefined && !hasCondition) {
    problems.add(
      'CONDITION_MODE_WITHOUT_PATTERN',
      `@Step({ whenUnmet: ${describeValue(raw.whenUnmet)} }) has no condition to be unmet: add an if: { ... } or ` +
        'ifNot: { ... } pattern, or remove whenUnmet.',
      methodName,
    );
  }
  return value ?? 'skip';
}

function readChoice<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
  methodName: string,
  problems: ProblemList,
): T | undefined {
  if (value === undefined) return undefined;
  if (allowed.includes(value as T)) return value as T;
  problems.add(
    'INVALID_OPTION',
    `@Step({ ${name} }) is ${describeValue(value)}; expected ${quoteList(allowed, 'or')}.`,
    methodName,
  );
  return undefined;
}

function checkDuplicateSlugs(drafts: readonly StepDraft[], problems: ProblemList): void {
  const bySlug = new Map<string, StepDraft[]>();
  for (const draft of drafts) {
    if (draft.slug !== undefined) bySlug.set(draft.slug, [...(bySlug.get(draft.slug) ?? []), draft]);
  }
  for (const [slug, same] of bySlug) {
    if (same.length < 2) continue;
    const methods = same.map((draft) => problems.where(draft.methodName));
    problems.add(
      'DUPLICATE_STEP_SLUG',
      `step slug '${slug}' is used by ${methods.join(' and ')}; a slug names one step. Give the others another ` +
        '@Step({ slug }).',
      same[1]?.methodName,
    );
  }
}

function checkDependencies(drafts: readonly StepDraft[], problems: ProblemList): void {
  const slugs = new Set(drafts.flatMap((draft) => (draft.slug === undefined ? [] : [draft.slug])));
  const methodToSlug = new Map(drafts.map((draft) => [draft.methodName, draft.slug]));
  const nodes: Array<{ slug: string; dependencies: string[] }> = [];
  const nodeSlugs = new Set<string>();
  for (const draft of drafts) {
    if (draft.dependsOn === undefined) continue;
    const { methodName } = draft;
    const seen = new Set<string>();
    for (const dependency of draft.dependsOn) {
      if (dependency === draft.slug) {
        problems.add(
          'SELF_DEPENDENCY',
          `the step depends on itself ('${dependency}'): remove it from dependsOn.`,
          methodName,
        );
      } else if (seen.has(dependency)) {
        problems.add(
          'DUPLICATE_DEPENDENCY',
          `dependsOn lists '${dependency}' twice: list each dependency once.`,
          methodName,
        );
      } else if (!slugs.has(dependency)) {
        problems.add(
          'UNKNOWN_DEPENDENCY',
          `dependsOn names '${dependency}', which is not a step of ${problems.className}. ` +
            unknownDependencyHint(dependency, slugs, methodToSlug),
          methodName,
        );
      }
      seen.add(dependency);
    }
    const distinct = [...seen].filter((dependency) => dependency !== draft.slug);
    if (draft.stepType === 'map' && distinct.length > 1) {
      problems.add(
        'MAP_STEP_DEPENDENCIES',
        `a map step maps over one array, so it takes at most one dependency, and it has ${distinct.length} ` +
          `(${quoteList(distinct)}). Add a single step that combines them into one array, and map over that.`,
        methodName,
      );
    }
    if (draft.slug !== undefined && !nodeSlugs.has(draft.slug)) {
      nodeSlugs.add(draft.slug);
      nodes.push({ slug: draft.slug, dependencies: distinct.filter((dependency) => slugs.has(dependency)) });
    }
  }
  const methodOf = new Map(drafts.map((draft) => [draft.slug, draft.methodName]));
  for (const cycle of findCycles(nodes)) {
    problems.add(
      'CYCLE',
      `steps form a dependency cycle: ${cycle.join(' → ')} (each depends on the next). A flow runs its steps in ` +
        'dependency order, so it must have no cycle: remove one of these dependencies.',
      methodOf.get(cycle[0]),
    );
  }
}

function unknownDependencyHint(
  dependency: string,
  slugs: ReadonlySet<string>,
  methodToSlug: ReadonlyMap<string, string | undefined>,
): string {
  const slugOfMethod = methodToSlug.get(dependency);
  if (slugOfMethod !== undefined) {
    return `'${dependency}' is the method of step '${slugOfMethod}'; dependsOn takes step slugs: write '${slugOfMethod}'.`;
  }
  const suggestion = closest(dependency, slugs);
  if (suggestion !== undefined) return `Did you mean '${suggestion}'?`;
  return slugs.size === 0 ? 'The flow has no valid step.' : `Its steps are ${quoteList([...slugs])}.`;
}

function assemble(
  metadata: FlowClassMetadata,
  className: string,
  flow: { slug: string; options: FlowRetryOptions },
  drafts: readonly StepDraft[],
  instance: object,
): FlowDefinition {
  const nodes = drafts.map((draft) => ({ ...draft, slug: draft.slug as string, dependencies: draft.dependsOn ?? [] }));
  const steps = topologicalOrder(nodes).map((draft, index) => {
    const options = Object.freeze({ ...draft.options });
    const step: StepDefinition = {
      slug: draft.slug,
      methodName: draft.methodName,
      index,
      dependsOn: Object.freeze([...draft.dependencies]),
      stepType: draft.stepType,
      options,
      effectiveOptions: Object.freeze({
        maxAttempts: options.maxAttempts ?? flow.options.maxAttempts ?? ENGINE_DEFAULTS.maxAttempts,
        baseDelay: options.baseDelay ?? flow.options.baseDelay ?? ENGINE_DEFAULTS.baseDelay,
        timeout: options.timeout ?? flow.options.timeout ?? ENGINE_DEFAULTS.timeout,
        startDelay: options.startDelay ?? ENGINE_DEFAULTS.startDelay,
      }),
      requiredInputPattern: draft.requiredInputPattern,
      forbiddenInputPattern: draft.forbiddenInputPattern,
      whenUnmet: draft.whenUnmet,
      whenExhausted: draft.whenExhausted,
      handler: methodHandler(instance, draft.methodName, className),
    };
    return Object.freeze(step);
  });
  return Object.freeze({
    slug: flow.slug,
    flowClass: metadata.flowClass,
    className,
    instance,
    options: Object.freeze({ ...flow.options }),
    steps: Object.freeze(steps),
    stepsBySlug: new Map(steps.map((step) => [step.slug, step])),
    rootMapSteps: Object.freeze(
      steps.filter((step) => step.stepType === 'map' && step.dependsOn.length === 0).map((step) => step.slug),
    ),
  });
}

function methodHandler(instance: object, methodName: string, className: string): StepHandler {
  return (input, context) => {
    const method = (instance as Record<string, unknown>)[methodName];
    if (typeof method !== 'function') {
      throw new TypeError(`${className}.${methodName} is no longer a function on the flow instance.`);
    }
    return Reflect.apply(method, instance, [input, context]);
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The definition of the flow a class instance implements, read from its decorators: what discovery
 * does for one provider, for tests and tools that have an instance at hand.
 */
export function flowDefinitionOf(instance: object, accessor = new PgflowMetadataAccessor()): FlowDefinition {
  const flowClass = instance.constructor as FlowClass;
  const metadata = accessor.read(flowClass) ?? {
    flowClass,
    flowOptions: undefined,
    hasFlowDecorator: false,
    steps: [],
    misplacedSteps: [],
  };
  return buildFlowDefinition(metadata, instance);
}
