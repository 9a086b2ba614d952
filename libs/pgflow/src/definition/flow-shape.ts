import type { JsonObject } from '../json/json-value.ts';
import type { StepType, WhenExhausted, WhenUnmet } from '../types/step-options.ts';
import type { FlowDefinition, StepDefinition } from './flow-definition.ts';

/** Retry options of a flow or a step, used when it is created; not compared by `_compare_flow_shapes`. */
interface RetryShapeOptions {
  readonly maxAttempts?: number;
  readonly baseDelay?: number;
  readonly timeout?: number;
}

/**
 * Flow options used when the flow is created and kept up to date; not compared. `alias` is an
 * addition to pgflow's shapes (pgflow._sync_flow_alias): present only when the flow has one.
 */
export interface FlowShapeOptions extends RetryShapeOptions {
  readonly alias?: string;
  /**
   * An addition to pgflow's shapes (pgflow._sync_flow_rate_limit): present only when the flow has a
   * rate limit; a shape without it clears the flow's.
   */
  readonly rateLimit?: { readonly limit: number; readonly periodSeconds: number };
  /**
   * Additions to pgflow's shapes (pgflow._sync_flow_concurrency), present only when set: at most
   * `concurrency` tasks of the flow started at once; at most `concurrencyPerKey` runs in progress per
   * runs.concurrency_key. A shape without them clears the flow's.
   */
  readonly concurrency?: number;
  readonly concurrencyPerKey?: number;
}

/**
 * Step options used when the step is created; not compared. `signal` and `signalTimeout` are
 * additions to pgflow's shapes (pgflow._sync_step_signals): present only on a signal step.
 */
export interface StepShapeOptions extends RetryShapeOptions {
  readonly startDelay?: number;
  readonly signal?: string;
  readonly signalTimeout?: number;
  /** An addition to pgflow's shapes (pgflow._sync_flow_concurrency): at most this many tasks of the step started at once. */
  readonly concurrency?: number;
}

/**
 * A condition pattern as a shape holds it (pgflow 0.14's format): explicit, so that no pattern and a
 * JSON null pattern cannot be confused.
 */
export type ShapePattern = { readonly defined: false } | { readonly defined: true; readonly value: JsonObject };

/** One step of a {@link FlowShape}. */
export interface StepShape {
  readonly slug: string;
  readonly stepType: StepType;
  /**
   * Dependency slugs, sorted by UTF-16 code unit (PostgreSQL's `collate "C"` order for slugs); the
   * engine sorts both sides again before comparing, so the order never causes a mismatch.
   */
  readonly dependencies: readonly string[];
  readonly whenUnmet: WhenUnmet;
  readonly whenExhausted: WhenExhausted;
  readonly requiredInputPattern: ShapePattern;
  readonly forbiddenInputPattern: ShapePattern;
  /** Only the options the step sets; absent when it sets none. */
  readonly options?: StepShapeOptions;
}

/**
 * A flow's structure as the engine compares it (`pgflow.ensure_flow_compiled(flow_slug, shape)`):
 * the steps in step order, plus creation-only options. The format is pgflow 0.14's, so flows
 * compiled by pgflow's DSL and by this library verify against each other.
 */
export interface FlowShape {
  readonly steps: readonly StepShape[];
  /** Only the options the flow sets; absent when it sets none. */
  readonly options?: FlowShapeOptions;
}

/** The JSON shape of a flow definition, for `pgflow.ensure_flow_compiled`. */
export function toFlowShape(definition: FlowDefinition): FlowShape {
  const steps = definition.steps.map(toStepShape);
  const { rateLimit, concurrency } = definition;
  const options = setOptions<FlowShapeOptions>({
    ...definition.options,
    alias: definition.alias ?? undefined,
    rateLimit: rateLimit === null ? undefined : { limit: rateLimit.limit, periodSeconds: rateLimit.periodSeconds },
    // With a key, the limit is on runs per key; without one, on the flow's tasks.
    concurrency: concurrency !== null && concurrency.key === null ? concurrency.limit : undefined,
    concurrencyPerKey: concurrency !== null && concurrency.key !== null ? concurrency.limit : undefined,
  });
  return options === undefined ? { steps } : { steps, options };
}

function toStepShape(step: StepDefinition): StepShape {
  const shape: StepShape = {
    slug: step.slug,
    stepType: step.stepType,
    // Code-unit order, not localeCompare: deterministic whatever the locale of this process.
    dependencies: [...step.dependsOn].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    whenUnmet: step.whenUnmet,
    whenExhausted: step.whenExhausted,
    requiredInputPattern: toShapePattern(step.requiredInputPattern),
    forbiddenInputPattern: toShapePattern(step.forbiddenInputPattern),
  };
  const options = setOptions<StepShapeOptions>({
    ...step.options,
    signal: step.signal?.name,
    signalTimeout: step.signal?.timeout ?? undefined,
    concurrency: step.concurrency ?? undefined,
  });
  return options === undefined ? shape : { ...shape, options };
}

function toShapePattern(pattern: JsonObject | null): ShapePattern {
  return pattern === null ? { defined: false } : { defined: true, value: pattern };
}

/** The options that are set, or undefined when none is. */
function setOptions<T extends object>(options: T): T | undefined {
  const set = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return Object.keys(set).length === 0 ? undefined : (set as T);
}
