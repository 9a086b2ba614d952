/**
 * Compile-time checks that `@Step()` applies to a handler: a map step (`map: true`) must declare its
 * context as MapStepContext, and a single step must not (the helper types rely on it to tell map
 * steps apart). A failed check shows as a missing property whose name explains the fix.
 */
import type { IsMapHandler } from '../types/flow-types.ts';

/** Passes (`unknown`) when the handler declares a MapStepContext second parameter. */
export type MapHandlerCheck<H> =
  IsMapHandler<H> extends true
    ? unknown
    : { readonly 'a map step handler must declare its second parameter as MapStepContext': never };

/** Passes (`unknown`) when the handler does not declare a MapStepContext second parameter. */
export type SingleHandlerCheck<H> =
  IsMapHandler<H> extends true
    ? { readonly 'a handler with a MapStepContext parameter needs @Step({ map: true })': never }
    : unknown;

/** `@Step({ map: true, ... })`. */
export type MapStepDecorator = <H>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<H> & MapHandlerCheck<H>,
) => void;

/** `@Step()` or `@Step({ ... })` without `map: true`. */
export type SingleStepDecorator = <H>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<H> & SingleHandlerCheck<H>,
) => void;

/** `@Step(options)` where `options.map` is not a literal (checked at bootstrap only). */
export type StepDecorator = <H>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<H>,
) => void;
