import type { JsonObject } from '../json/json-value.ts';
import type { FlowClass } from './flow-class.ts';

/** What a step does when its condition (`if` / `ifNot`) is not met. */
export type WhenUnmet = 'skip' | 'skip-cascade' | 'fail';

/** What a step does when its last attempt fails. */
export type WhenExhausted = 'fail' | 'skip' | 'skip-cascade';

/** A single step runs one task; a map step runs one task per element of an array. */
export type StepType = 'single' | 'map';

/** Retry and timing options of a flow; each is the default of its steps. Unset: the engine's default. */
export interface FlowRetryOptions {
  /** How many attempts a task gets in all (integer >= 0; engine default 3). */
  readonly maxAttempts?: number;
  /** Seconds before the first retry, doubling at each retry (integer >= 0; engine default 5). */
  readonly baseDelay?: number;
  /** Seconds a task may run before it counts as stalled (integer >= 1; engine default 60). */
  readonly timeout?: number;
}

/**
 * `@Flow({ rateLimit })`: at most `limit` task starts per `periodSeconds`, across all workers and
 * processes, in fixed windows aligned to the epoch (a 1-second period: each second of the clock).
 * A task over the limit waits, not started, for the next window; none is dropped. Every start counts,
 * a retry's included.
 */
export interface RateLimitOptions {
  /** Task starts allowed per window (integer >= 1). */
  readonly limit: number;
  /** The window, in seconds (integer >= 1). */
  readonly periodSeconds: number;
  /**
   * A separate budget per key: computed from the run input by `FlowClient.start()` / `startMany()`
   * and stored on the run (e.g. `(input: { tenantId: string }) => input.tenantId`); a string of 1 to
   * 255 characters. Without it the flow has one budget (runs started from SQL without a key share it).
   */
  // biome-ignore lint/suspicious/noExplicitAny: the input's type is the flow's, which the options cannot name
  readonly key?: (input: any) => string;
}

/** The options of `@Flow()`. */
export interface FlowOptions extends FlowRetryOptions {
  /**
   * The flow's identifier in the database and its queue's name: letters, digits and underscores,
   * not starting with a digit, at most 47 characters, not `run`. Required: it is persisted, so it is
   * never derived from the class name (renaming a class must not orphan its runs).
   */
  readonly slug: string;
  /**
   * The name this flow's versions share: `start('order')` starts the newest flow compiled under alias
   * `order` (the exact slug of a flow wins), while runs of older versions go on on theirs. Same rules
   * as a flow slug, and never the slug of a flow (its own included). Example: `@Flow({ slug: 'order_v2',
   * alias: 'order' })`. See the README, "Changing a flow in production".
   */
  readonly alias?: string;
  /** At most `limit` task starts per `periodSeconds`, per key when `key` is given. See {@link RateLimitOptions}. */
  readonly rateLimit?: RateLimitOptions;
  /**
   * A concurrency limit (integer from 1 to 2147483647), across all workers and processes. Without
   * `concurrencyKey`: at most this many tasks of the flow started at once (the others stay queued and
   * start when one ends). With `concurrencyKey`: at most this many runs in progress per key; a run over
   * its key's limit waits, none of its steps started, until a run of that key ends.
   */
  readonly concurrency?: number;
  /**
   * The key of the per-key limit (`concurrency` runs in progress per key), computed from the run input
   * by `FlowClient.start()` / `startMany()` and stored on the run, e.g. `(input: { tenantId: string })
   * => input.tenantId`; a string of 1 to 255 characters. Requires `concurrency`. Runs without a key
   * (started from SQL without one) are not limited per key.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the input's type is the flow's, which the options cannot name
  readonly concurrencyKey?: (input: any) => string;
}

/** The options of `@Step()`. */
export interface StepOptions extends FlowRetryOptions {
  /** The step's identifier; default: the method's name. Same rules as a flow slug, up to 128 characters. */
  readonly slug?: string;
  /** Slugs of the steps whose outputs this step needs. None: a root step, which receives the flow input. */
  readonly dependsOn?: readonly string[];
  /**
   * A map step runs one task per element of an array: the flow input (a root map step) or its one
   * dependency's output. Its handler must declare its context as `MapStepContext`.
   */
  readonly map?: boolean;
  /** Seconds to wait before the step's tasks become visible to workers (integer >= 0; default 0). */
  readonly startDelay?: number;
  /**
   * Durable sleep: when a task of the step is first claimed, this function gets the input its
   * handler would get (the dependencies' outputs; a map step's element) and returns when the task may
   * run. Until then the task waits in the queue, invisible, holding no worker slot, across restarts;
   * a date in the past runs it at once. The date is computed once per task and kept (a retry does
   * not sleep again). Annotate the parameter, e.g. `delayUntil: (deps: { order: Order }) =>
   * new Date(deps.order.shipBy)`. A value that is not a valid Date fails the task without retries.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the input's type is the handler's, which the options cannot name
  readonly delayUntil?: (input: any) => Date;
  /**
   * A signal step: when it becomes ready it waits, holding no worker slot, across restarts, until
   * `FlowClient.signal(runId, name, payload)` (or `pgflow.send_signal`) delivers the signal of this
   * name; then the method runs with the payload as its input (its dependencies' outputs are in
   * `ctx.deps`: declare the context as `SignalStepContext`) and its return value is the step's output. A signal sent before the step is
   * ready is kept. On a signal step, `timeout` is how many seconds it may wait for its signal
   * before failing like an exhausted task (`whenExhausted` applies); its handler gets the flow's
   * timeout. One step per signal name in a flow; not on a map step.
   */
  readonly signal?: string;
  /**
   * A subflow step: the method returns the input of a run of this `@Flow()` class (a child run; with
   * `map: true`, one child run per element), which the step then waits for, holding no worker slot,
   * across restarts. The task completes with the child run's output when it completes; a failed or
   * cancelled child run fails the attempt (the next attempt starts a new child run; `whenExhausted`
   * applies after the last). Return `subflowInput(ChildFlow, input)` to type the input and let
   * dependents see the child's output type (`FlowOutput<ChildFlow>`). The class must be a flow of the
   * same PgflowModule registration, and subflows must not form a cycle (checked at boot).
   */
  readonly subflow?: FlowClass;
  /**
   * Run the step only if its condition input contains this JSON pattern (PostgreSQL `@>`). The
   * condition input is the flow input for a root step, else the object of dependency outputs.
   */
  readonly if?: JsonObject;
  /** Run the step only if its condition input does not contain this JSON pattern. */
  readonly ifNot?: JsonObject;
  /** When the condition is not met (needs `if` or `ifNot`): 'skip' (default), 'skip-cascade' or 'fail'. */
  readonly whenUnmet?: WhenUnmet;
  /** When the last attempt fails: 'fail' the run (default), 'skip' the step, or 'skip-cascade'. */
  readonly whenExhausted?: WhenExhausted;
  /**
   * At most this many tasks of the step started at once, across all workers and processes (integer
   * from 1 to 2147483647); the others stay queued and start when one ends.
   */
  readonly concurrency?: number;
}
