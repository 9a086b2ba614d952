import type { JsonObject } from '../json/json-value.ts';
import type { ScheduleDefinition } from '../schedules/schedule-definition.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { StepContext } from '../types/step-context.ts';
import type { FlowRetryOptions, StepType, WhenExhausted, WhenUnmet } from '../types/step-options.ts';

/** The options a step sets itself (unset ones inherit the flow's). */
export interface StepOptionValues extends FlowRetryOptions {
  readonly startDelay?: number;
}

/** The options the engine applies to a step created from this definition, defaults resolved. */
export interface EffectiveStepOptions {
  readonly maxAttempts: number;
  readonly baseDelay: number;
  readonly timeout: number;
  readonly startDelay: number;
}

/**
 * Runs one task of a step: calls the flow instance's method with the task's input and context and
 * returns what it returns (a value or a promise). It looks the method up at each call, so a method
 * replaced after boot (a test spy) is the one that runs.
 */
export type StepHandler = (input: unknown, context: StepContext) => unknown;

/** A signal step's signal (`@Step({ signal, timeout })`). */
export interface StepSignal {
  /** The name `FlowClient.signal()` delivers it by; unique among the flow's steps. */
  readonly name: string;
  /** Seconds the step may wait for it before failing like an exhausted task; null: no limit. */
  readonly timeout: number | null;
}

/** A subflow step's child flow (`@Step({ subflow })`). */
export interface StepSubflow {
  /** The child flow's class, as given. */
  readonly flowClass: FlowClass;
  /** Its slug (`@Flow({ slug })`): the flow each task starts a child run of. */
  readonly slug: string;
}

/** One validated step of a {@link FlowDefinition}. */
export interface StepDefinition {
  readonly slug: string;
  /** The `@Step()` method. */
  readonly methodName: string;
  /** Position in `FlowDefinition.steps`, which is the engine's step_index. */
  readonly index: number;
  /** Dependency slugs, as declared. */
  readonly dependsOn: readonly string[];
  readonly stepType: StepType;
  /** Options the step sets itself; unset ones inherit the flow's. */
  readonly options: StepOptionValues;
  /** The options in force for this step when the flow is created from this definition. */
  readonly effectiveOptions: EffectiveStepOptions;
  /** `if`: the pattern the condition input must contain (`@>`), or null. */
  readonly requiredInputPattern: JsonObject | null;
  /** `ifNot`: the pattern the condition input must not contain, or null. */
  readonly forbiddenInputPattern: JsonObject | null;
  readonly whenUnmet: WhenUnmet;
  readonly whenExhausted: WhenExhausted;
  /** `delayUntil` (durable sleep): the task's wake time from its input, or null. */
  readonly delayUntil: ((input: unknown) => unknown) | null;
  /** A signal step's signal: its handler gets the signal's payload as input; null for other steps. */
  readonly signal: StepSignal | null;
  /**
   * A subflow step's child flow: the handler's return value is the input of a child run of it, and
   * the task's output is that run's output; null for other steps.
   */
  readonly subflow: StepSubflow | null;
  /** `@Step({ concurrency })`: at most this many tasks of the step started at once; null: no limit. */
  readonly concurrency: number | null;
  readonly handler: StepHandler;
}

/** A flow's checked rate limit (`@Flow({ rateLimit })`). */
export interface FlowRateLimit {
  /** Task starts allowed per window. */
  readonly limit: number;
  /** The window, in seconds (windows aligned to the epoch). */
  readonly periodSeconds: number;
  /** The run input's key (its own budget), as given; null: one budget for the flow. */
  readonly key: ((input: unknown) => unknown) | null;
}

/** A flow's checked concurrency limit (`@Flow({ concurrency, concurrencyKey })`). */
export interface FlowConcurrency {
  /** Without a key: tasks of the flow started at once; with one: runs in progress per key. */
  readonly limit: number;
  /** The run input's key (the per-key limit), as given; null: the limit is on the flow's tasks. */
  readonly key: ((input: unknown) => unknown) | null;
}

/** A validated flow: what discovery produces from a `@Flow()` provider. Frozen. */
export interface FlowDefinition {
  readonly slug: string;
  /** The name the flow's versions share (`@Flow({ alias })`), or null. */
  readonly alias: string | null;
  /** The class of the provider instance (for a useClass override, the overriding class). */
  readonly flowClass: FlowClass;
  readonly className: string;
  /** The provider instance the handlers run on. */
  readonly instance: object;
  /** Options the flow sets itself (unset ones take the engine's defaults). */
  readonly options: FlowRetryOptions;
  /** The flow's rate limit (`@Flow({ rateLimit })`), or null. */
  readonly rateLimit: FlowRateLimit | null;
  /** The flow's concurrency limit (`@Flow({ concurrency, concurrencyKey })`), or null. */
  readonly concurrency: FlowConcurrency | null;
  /**
   * The steps in a topological order (each after its dependencies), keeping declaration order
   * wherever the dependencies allow: the order to add them to the engine in.
   */
  readonly steps: readonly StepDefinition[];
  readonly stepsBySlug: ReadonlyMap<string, StepDefinition>;
  /**
   * Slugs of the root map steps (map steps without dependencies), which map over the run input: when
   * there is one, a run input must be an array.
   */
  readonly rootMapSteps: readonly string[];
  /** The flow's `@FlowSchedule()` schedules, validated, in declaration order. */
  readonly schedules: readonly ScheduleDefinition[];
}
