/**
 * Helper types that derive a step's input from the handlers it depends on, so that a user never
 * writes a dependency's output type by hand.
 *
 * How they read a flow class F (types cannot see decorators, so they read method signatures):
 * - every public method of F is a step, except Nest's lifecycle hooks (`onModuleInit` ...); keep
 *   helper methods `private` or `protected` (keyof leaves them out);
 * - a **map step** is a method whose second parameter is typed {@link MapStepContext};
 * - a **dependent single step** is a method whose first parameter is a {@link StepInput} (or a
 *   `Partial<StepInput<...>>`); a dependent map step may type its item as {@link MapItem};
 *   both carry a phantom key recording the dependencies, which is how FlowOutput finds the leaves;
 * - a **root single step** is any other method that is not a map step;
 * - a **subflow step** returns a {@link SubflowInput} (`subflowInput(ChildFlow, input)`): its output
 *   is the child flow's FlowOutput.
 */
import type { MapStepContext } from './step-context.ts';
import type { SubflowInput } from './subflow-input.ts';

declare const STEP_DEPENDENCIES: unique symbol;

/**
 * A phantom, optional symbol key recording which steps a value comes from. It exists only in the
 * types (no value ever has it), so it never reaches a handler or the database.
 */
export interface StepDependencies<K extends string> {
  readonly [STEP_DEPENDENCIES]?: K;
}

/** Names of F's public members, the candidates for step keys. */
export type StepKey<F> = Extract<keyof F, string>;

/** Nest lifecycle hooks: public methods of a provider that are not steps. */
type LifecycleHook =
  | 'onModuleInit'
  | 'onApplicationBootstrap'
  | 'onModuleDestroy'
  | 'beforeApplicationShutdown'
  | 'onApplicationShutdown';

type AnyHandler = (...args: never[]) => unknown;

/** Whether a handler's second parameter is a MapStepContext, i.e. whether it is a map step. */
export type IsMapHandler<M> = M extends (input: never, context: infer C, ...rest: never[]) => unknown
  ? [C] extends [Pick<MapStepContext, 'kind'>]
    ? true
    : false
  : false;

/** A handler's first parameter; `unknown` when it has none. */
type FirstParameter<M> = M extends (input: infer I, ...rest: never[]) => unknown ? I : unknown;

/** The dependencies a StepInput / MapItem type records; never for any other type. */
type DependenciesOf<T> = T extends StepDependencies<infer K> ? (string extends K ? never : K) : never;

/** What the engine stores for a returned value: `undefined` or `void` (returning nothing) becomes null. */
type Stored<T> = T extends void ? null : T;

/**
 * What a returned value becomes as a task's output: a subflow step's {@link SubflowInput} becomes the
 * child run's output (FlowOutput of the child flow); anything else is stored as it is.
 */
type Settled<T> = T extends SubflowInput<infer C> ? FlowOutput<C> : Stored<T>;

/** One task's output: the handler's awaited return value (a subflow step's: its child run's output). */
type TaskOutput<M> = M extends (...args: never[]) => infer R ? Settled<Awaited<R>> : never;

/** F's step keys: its public methods, except lifecycle hooks. */
type HandlerKey<F> = Exclude<{ [K in StepKey<F>]: F[K] extends AnyHandler ? K : never }[StepKey<F>], LifecycleHook>;

/**
 * The output of step K of flow F, as dependents receive it: the handler's awaited return type
 * (`undefined`/`void` becoming null), or an array of that for a map step (a method whose second
 * parameter is a MapStepContext).
 */
export type StepOutput<F, K extends StepKey<F>> =
  IsMapHandler<F[K]> extends true ? Array<TaskOutput<F[K]>> : TaskOutput<F[K]>;

/**
 * The input of a dependent single step: one key per dependency holding its output.
 *
 * ```ts
 * @Step({ dependsOn: ['website'] })
 * summary(deps: StepInput<AnalyzeWebsiteFlow, 'website'>) { return deps.website.title; }
 * ```
 * A dependency that may be skipped (its `if`/`ifNot`, or `whenExhausted: 'skip'`) arrives without
 * its key: declare such an input as `Partial<StepInput<F, K>>`.
 */
export type StepInput<F, K extends StepKey<F>> = { [P in K]: StepOutput<F, P> } & StepDependencies<K>;

/**
 * One element of step K's array output: the item a dependent map step over K receives. Typing a map
 * step's item with it (rather than with the bare element type) lets {@link FlowOutput} see the edge.
 */
export type MapItem<F, K extends StepKey<F>> = (StepOutput<F, K> extends ReadonlyArray<infer E> ? E : never) &
  StepDependencies<K>;

/** Root single steps: not map steps, and their first parameter records no dependency. */
type RootStepKey<F> = {
  [K in HandlerKey<F>]: IsMapHandler<F[K]> extends true
    ? never
    : [DependenciesOf<FirstParameter<F[K]>>] extends [never]
      ? K
      : never;
}[HandlerKey<F>];

/** Steps some other step names as a dependency (in a StepInput or MapItem parameter). */
type ReferencedStepKey<F> = { [K in HandlerKey<F>]: DependenciesOf<FirstParameter<F[K]>> }[HandlerKey<F>];

/**
 * The input a run of flow F takes: the first parameter type of its root single steps (intersected
 * when there are several; a root step without parameters adds nothing), or `unknown` when it has
 * none. A flow whose only root steps are map steps takes an array, which this type cannot see
 * (`unknown`): a dependent map step is indistinguishable from a root one by its signature.
 */
export type FlowInput<F> = [RootStepKey<F>] extends [never]
  ? unknown
  : { [K in RootStepKey<F>]: (input: FirstParameter<F[K]>) => void }[RootStepKey<F>] extends (input: infer I) => void
    ? I
    : unknown;

/**
 * The output of a completed run of flow F: one key per leaf step (a step that no other step names
 * in its StepInput or MapItem), holding its output. Each key is optional, because a skipped leaf has
 * no key in the run output.
 */
export type FlowOutput<F> = { [L in Exclude<HandlerKey<F>, ReferencedStepKey<F>>]?: StepOutput<F, L> };
