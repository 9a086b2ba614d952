import type { FlowClass } from './flow-class.ts';
import type { FlowInput } from './flow-types.ts';

declare const CHILD_FLOW: unique symbol;

/**
 * What a subflow step's method returns (`@Step({ subflow })`): the input of the child run, marked with
 * the child flow so that the step's output type, as dependents see it (StepOutput, StepInput,
 * FlowOutput), is the child flow's output, `FlowOutput<F>`. Make one with {@link subflowInput}.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface adds only a phantom key, never set
export class SubflowInput<F extends object = object> {
  constructor(
    /** The child flow's class (the same as the step's `subflow` option). */
    readonly flow: FlowClass<F>,
    /** The child run's input. */
    readonly input: unknown,
  ) {
    Object.freeze(this);
  }
}

/** A phantom key recording the child flow in the types; no value ever has it. */
export interface SubflowInput<F extends object = object> {
  readonly [CHILD_FLOW]?: F;
}

/**
 * The input of a subflow step's child run, typed by the child flow:
 *
 * ```ts
 * @Step({ dependsOn: ['groups'], map: true, subflow: CheckLinksFlow })
 * checkGroup(group: MapItem<SiteFlow, 'groups'>, _ctx: MapStepContext) {
 *   return subflowInput(CheckLinksFlow, { urls: group.urls });
 * }
 * ```
 * A method may also return the bare input; the step's output type is then the method's return type,
 * which is not what dependents receive.
 */
export function subflowInput<F extends object>(flow: FlowClass<F>, input: FlowInput<F>): SubflowInput<F> {
  return new SubflowInput(flow, input);
}
