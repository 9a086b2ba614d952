/**
 * Reading `@Flow()` and `@Step()` options as given (unknown values) into checked values, recording
 * a problem for each invalid one.
 */
import type { FlowClassMetadata, StepMethodMetadata } from '../discovery/pgflow-metadata.accessor.ts';
import { describeValue } from '../errors/invalid-options.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import type { JsonObject } from '../json/json-value.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import type { FlowRetryOptions, StepType, WhenExhausted, WhenUnmet } from '../types/step-options.ts';
import { readFlowConcurrency, readStepConcurrency } from './concurrency-option.reader.ts';
import type { FlowConcurrency, FlowRateLimit, StepOptionValues, StepSignal, StepSubflow } from './flow-definition.ts';
import { type NumericOptionName, numericOptionProblem, unknownKeyProblems } from './option-rules.ts';
import { type ProblemList, quoteList } from './problem-list.ts';
import { readRateLimit } from './rate-limit-option.reader.ts';
import { slugProblem, toSlug } from './slug.ts';
import { readSubflow } from './subflow-option.reader.ts';

const FLOW_OPTION_KEYS = [
  'slug',
  'alias',
  'maxAttempts',
  'baseDelay',
  'timeout',
  'rateLimit',
  'concurrency',
  'concurrencyKey',
];
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
  'delayUntil',
  'signal',
  'subflow',
  'concurrency',
];
const RETRY_OPTIONS: readonly NumericOptionName[] = ['maxAttempts', 'baseDelay', 'timeout'];
const STEP_NUMERIC_OPTIONS: readonly NumericOptionName[] = [...RETRY_OPTIONS, 'startDelay'];
const WHEN_UNMET: readonly WhenUnmet[] = ['skip', 'skip-cascade', 'fail'];
const WHEN_EXHAUSTED: readonly WhenExhausted[] = ['fail', 'skip', 'skip-cascade'];

/** A step as read from its options; `slug` and `dependsOn` are undefined where they were invalid. */
export interface StepDraft {
  readonly methodName: string;
  readonly slug: string | undefined;
  readonly dependsOn: readonly string[] | undefined;
  readonly stepType: StepType;
  readonly options: StepOptionValues;
  readonly requiredInputPattern: JsonObject | null;
  readonly forbiddenInputPattern: JsonObject | null;
  readonly whenUnmet: WhenUnmet;
  readonly whenExhausted: WhenExhausted;
  readonly delayUntil: ((input: unknown) => unknown) | null;
  readonly signal: StepSignal | null;
  readonly subflow: StepSubflow | null;
  readonly concurrency: number | null;
}

/** What `@Flow()` sets, checked: the parts that are invalid are undefined or null. */
export interface FlowOptionsDraft {
  readonly slug: string | undefined;
  readonly alias: string | null;
  readonly options: FlowRetryOptions;
  readonly rateLimit: FlowRateLimit | null;
  readonly concurrency: FlowConcurrency | null;
}

/**
 * The flow's slug (undefined when invalid), alias, rate limit and concurrency limit (null when none or
 * invalid) and retry options.
 */
export function readFlowOptions(metadata: FlowClassMetadata, problems: ProblemList): FlowOptionsDraft {
  const example = `{ slug: '${toSlug(metadata.flowClass.name || 'my_flow')}' }`;
  if (!metadata.hasFlowDecorator) {
    const methods = metadata.steps.map((step) => step.methodName);
    problems.add(
      'MISSING_FLOW_DECORATOR',
      `the class has @Step() methods (${methods.join(', ') || 'misplaced ones'}) but no @Flow() decorator, so its ` +
        `steps would never run. Add @Flow(${example}) to the class, or remove the @Step() decorators.`,
    );
    return { slug: undefined, alias: null, options: {}, rateLimit: null, concurrency: null };
  }
  const raw = metadata.flowOptions;
  if (!isPlainObject(raw)) {
    problems.add('INVALID_OPTION', `@Flow() expects an options object like ${example}, got ${describeValue(raw)}.`);
    return { slug: undefined, alias: null, options: {}, rateLimit: null, concurrency: null };
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
  return {
    slug,
    alias: readAlias(raw.alias, slug, problems),
    options: readNumericOptions(raw, RETRY_OPTIONS, '@Flow', problems),
    rateLimit: readRateLimit(raw.rateLimit, problems),
    concurrency: readFlowConcurrency(raw.concurrency, raw.concurrencyKey, problems),
  };
}

/** The `alias` option: a flow slug by its rules, and not the flow's own slug. */
function readAlias(alias: unknown, slug: string | undefined, problems: ProblemList): string | null {
  if (alias === undefined) return null;
  const problem = slugProblem(alias, 'flow');
  if (problem !== undefined) {
    problems.add('INVALID_FLOW_ALIAS', `@Flow({ alias }) ${problem}; an alias follows the flow slug rules.`);
    return null;
  }
  if (alias === slug) {
    problems.add(
      'INVALID_FLOW_ALIAS',
      `@Flow({ alias }) is the flow's own slug '${slug}'. An alias is the name a flow's versions share, so it ` +
        `must differ from every slug: e.g. @Flow({ slug: '${slug}_v2', alias: '${slug}' }) for a new version.`,
    );
    return null;
  }
  return alias as string;
}

/** A step's checked options. */
export function readStep(step: StepMethodMetadata, problems: ProblemList): StepDraft {
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
    delayUntil: null,
    signal: null,
    subflow: null,
    concurrency: null,
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
  const stepType = readMap(raw.map, methodName, problems);
  const { timeout, ...options } = readNumericOptions(raw, STEP_NUMERIC_OPTIONS, '@Step', problems, methodName);
  const signal = readSignal(raw.signal, stepType, timeout, methodName, problems);
  return {
    methodName,
    slug: readStepSlug(raw.slug, methodName, problems),
    dependsOn: readDependsOn(raw.dependsOn, methodName, problems),
    stepType,
    // A signal step's timeout is how long it waits for its signal; its handler gets the flow's.
    options: signal !== null || timeout === undefined ? options : { ...options, timeout },
    requiredInputPattern,
    forbiddenInputPattern,
    // An invalid pattern is reported as such; whenUnmet then still has a condition, so no second problem.
    whenUnmet: readWhenUnmet(raw, raw.if !== undefined || raw.ifNot !== undefined, methodName, problems),
    whenExhausted: readChoice(raw.whenExhausted, 'whenExhausted', WHEN_EXHAUSTED, methodName, problems) ?? 'fail',
    delayUntil: readDelayUntil(raw.delayUntil, methodName, problems),
    signal,
    subflow: readSubflow(raw.subflow, methodName, problems),
    concurrency: readStepConcurrency(raw.concurrency, methodName, problems),
  };
}

/** The `signal` option (with `timeout`, how long the step may wait for it), or null. */
function readSignal(
  value: unknown,
  stepType: StepType,
  timeout: number | undefined,
  methodName: string,
  problems: ProblemList,
): StepSignal | null {
  if (value === undefined) return null;
  const problem = slugProblem(value, 'step');
  if (problem !== undefined) {
    problems.add(
      'INVALID_OPTION',
      `@Step({ signal }) ${problem}; a signal name follows the step slug rules, like 'approval'.`,
      methodName,
    );
    return null;
  }
  if (stepType === 'map') {
    problems.add(
      'INVALID_OPTION',
      `@Step({ signal: '${value}', map: true }): a signal step is a single step (one signal per run). Wait for ` +
        'the signal in a single step and map over its output in a step that depends on it.',
      methodName,
    );
    return null;
  }
  return { name: value as string, timeout: timeout ?? null };
}

function readDelayUntil(
  value: unknown,
  methodName: string,
  problems: ProblemList,
): ((input: unknown) => unknown) | null {
  if (value === undefined) return null;
  if (typeof value === 'function') return value as (input: unknown) => unknown;
  problems.add(
    'INVALID_OPTION',
    `@Step({ delayUntil }) must be a function of the step's input returning a Date, like (deps) => ` +
      `new Date(deps.order.shipBy), got ${describeValue(value)}.`,
    methodName,
  );
  return null;
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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
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
