/**
 * The second argument of every step handler: which task of which run is executing.
 *
 * @typeParam TFlowInput the flow's input type (the type of `flowInput`); within the flow class,
 *   write it out (`StepContext<{ url: string }>`) rather than `FlowInput<ThisFlow>`, which would
 *   make the class's type refer to itself.
 */
export interface StepContext<TFlowInput = unknown> {
  /** The run's id (`pgflow.runs.run_id`). */
  readonly runId: string;
  readonly flowSlug: string;
  readonly stepSlug: string;
  /** 0 for a single step; the element's index for a map step. */
  readonly taskIndex: number;
  /** 1 on the first try, 2 on the first retry, ... */
  readonly attempt: number;
  /** The run's input. */
  readonly flowInput: TFlowInput;
  /** Fires when the task should stop: on worker shutdown (and on timeout or cancellation). */
  readonly signal: AbortSignal;
  /** Whether the step is a single step or a map step. */
  readonly kind: 'single' | 'map';
}

/**
 * The context of a map step's handler. A map step (`@Step({ map: true })`) must declare its second
 * parameter with this type: that is how the helper types ({@link StepOutput}) know that its output
 * reaches dependents as an array, and `@Step({ map: true })` refuses, at compile time, a handler that
 * does not.
 */
export interface MapStepContext<TFlowInput = unknown> extends StepContext<TFlowInput> {
  readonly kind: 'map';
}

/**
 * The context of a signal step's handler (`@Step({ signal })`), whose input is the signal's payload:
 * the step's dependencies' outputs are here, in `deps`. Type them with the helper types, e.g.
 * `ctx: SignalStepContext<StepInput<OrderFlow, 'prepare'>>`.
 */
export interface SignalStepContext<TDeps = Readonly<Record<string, unknown>>, TFlowInput = unknown>
  extends StepContext<TFlowInput> {
  readonly kind: 'single';
  /** The dependencies' outputs, by step slug (`{}` for a step without dependencies). */
  readonly deps: TDeps;
}
