import 'reflect-metadata';
import { MISPLACED_STEP_METADATA, STEP_METADATA } from '../pgflow.constants.ts';
import type { StepOptions } from '../types/step-options.ts';
import { copyOptions } from './flow.decorator.ts';
import type { MapStepDecorator, SingleStepDecorator, StepDecorator } from './step-handler-checks.ts';

/** What `@Step()` stores on the method: the options exactly as given, checked at bootstrap. */
export interface StepMetadata {
  readonly options: unknown;
}

/** A `@Step()` that did not land on an instance method, recorded on the class for validation. */
export interface MisplacedStep {
  readonly propertyKey: string;
  /** What it landed on, e.g. `a property (not a method)`. */
  readonly target: string;
}

/**
 * Marks a method of a `@Flow()` class as a step. The step slug is the method name unless `slug` is
 * given. Its input: the flow input (a root step), `{ [dependency]: output }` (a dependent single
 * step, typed with `StepInput`), or one array element (a map step, whose second parameter must be a
 * `MapStepContext`). Its return value (or resolved promise) is its output, and must be JSON.
 *
 * Only stores the options; they are validated at bootstrap with the rest of the flow.
 */
export function Step(options: StepOptions & { readonly map: true }): MapStepDecorator;
export function Step(options?: StepOptions & { readonly map?: false }): SingleStepDecorator;
export function Step(options: StepOptions): StepDecorator;
export function Step(options: StepOptions = {}): StepDecorator {
  const metadata: StepMetadata = { options: copyOptions(options) };
  return (target: object, propertyKey: string | symbol, descriptor?: PropertyDescriptor): void => {
    const misplaced = misplacement(target, propertyKey, descriptor);
    if (misplaced !== undefined) {
      const owner = typeof target === 'function' ? target : target.constructor;
      recordMisplaced(owner, { propertyKey: String(propertyKey), target: misplaced });
      return;
    }
    Reflect.defineMetadata(STEP_METADATA, metadata, descriptor?.value as object);
  };
}

/** Why a decoration is not on an instance method, or undefined when it is. */
function misplacement(
  target: object,
  propertyKey: string | symbol,
  descriptor?: PropertyDescriptor,
): string | undefined {
  if (typeof target === 'function') return 'a static member (steps are instance methods)';
  if (typeof propertyKey === 'symbol') return 'a symbol-named member (a step needs a method with a string name)';
  if (descriptor === undefined) return 'a property (not a method)';
  if (descriptor.get !== undefined || descriptor.set !== undefined) return 'an accessor (not a method)';
  if (typeof descriptor.value !== 'function') return 'a member that is not a method';
  if (Reflect.hasOwnMetadata(STEP_METADATA, descriptor.value)) return 'a method that already has @Step() (twice)';
  return undefined;
}

function recordMisplaced(owner: object, entry: MisplacedStep): void {
  const inherited = (Reflect.getMetadata(MISPLACED_STEP_METADATA, owner) as MisplacedStep[] | undefined) ?? [];
  Reflect.defineMetadata(MISPLACED_STEP_METADATA, [...inherited, entry], owner);
}
