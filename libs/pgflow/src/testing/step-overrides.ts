import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { IsMapHandler, StepKey } from '../types/flow-types.ts';
import type { MapStepContext, StepContext } from '../types/step-context.ts';

/** Injection token of the overrides given to the testing builder, applied before the worker starts. */
export const PGFLOW_STEP_OVERRIDES = 'PGFLOW_STEP_OVERRIDES';

/**
 * A replacement for step K of flow F: it receives what the step receives (its input, and the context)
 * and returns what the step returns, or a promise of it.
 */
export type StepReplacement<F, K extends StepKey<F>> = F[K] extends (input: infer I, ...rest: never[]) => infer R
  ? (
      input: I,
      context: IsMapHandler<F[K]> extends true ? MapStepContext : StepContext,
    ) => Awaited<R> | Promise<Awaited<R>>
  : never;

/** One step replacement, as given. */
export interface StepOverride {
  readonly flow: FlowClass;
  readonly step: string;
  readonly handler: (input: never, context: never) => unknown;
}

/**
 * Replaces steps' methods on the flow instances the worker runs, and puts them back. A step handler
 * looks its method up on the instance at each call, so a replacement holds from the next task on.
 */
export class StepOverrider {
  /** The methods replaced, by instance and method name, with what the instance had before. */
  private readonly replaced = new Map<object, Map<string, PropertyDescriptor | undefined>>();

  constructor(private readonly registry: FlowRegistry) {}

  apply(override: StepOverride): void {
    const definition = this.registry.get(override.flow);
    const methodName = stepMethod(definition, override.step);
    const instance = definition.instance as Record<string, unknown>;
    let methods = this.replaced.get(instance);
    if (methods === undefined) {
      methods = new Map();
      this.replaced.set(instance, methods);
    }
    if (!methods.has(methodName)) methods.set(methodName, Object.getOwnPropertyDescriptor(instance, methodName));
    Object.defineProperty(instance, methodName, {
      value: override.handler,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }

  /** Puts every replaced method back. */
  restore(): void {
    for (const [instance, methods] of this.replaced) {
      for (const [methodName, own] of methods) {
        if (own === undefined) delete (instance as Record<string, unknown>)[methodName];
        else Object.defineProperty(instance, methodName, own);
      }
    }
    this.replaced.clear();
  }
}

/** Applies the builder's overrides in onModuleInit: after discovery, before the worker starts. */
@Injectable()
export class StepOverridesLoader implements OnModuleInit {
  readonly overrider: StepOverrider;

  constructor(
    registry: FlowRegistry,
    @Inject(PGFLOW_STEP_OVERRIDES) private readonly overrides: readonly StepOverride[],
  ) {
    this.overrider = new StepOverrider(registry);
  }

  onModuleInit(): void {
    for (const override of this.overrides) this.overrider.apply(override);
  }
}

/** Checks a replacement as given, before the application exists. */
export function checkOverride(override: StepOverride): void {
  const subject = 'overrideStep() argument';
  if (typeof override.flow !== 'function') {
    throw new InvalidOptionsError('flow', override.flow, 'a flow class (decorated with @Flow())', { subject });
  }
  if (typeof override.step !== 'string') {
    throw new InvalidOptionsError('step', override.step, `the name of a @Step() method of ${override.flow.name}`, {
      subject,
    });
  }
  if (typeof override.handler !== 'function') {
    throw new InvalidOptionsError('handler', override.handler, '(input, context) => output', { subject });
  }
}

/** The method of the step named `step` (its method name, or its slug). */
function stepMethod(definition: FlowDefinition, step: string): string {
  const found = definition.steps.find((s) => s.methodName === step) ?? definition.stepsBySlug.get(step);
  if (found !== undefined) return found.methodName;
  const steps = definition.steps.map((s) => `'${s.methodName}'`).join(', ');
  throw new InvalidOptionsError('step', step, `a step of ${definition.className}: ${steps}`, {
    subject: 'overrideStep() argument',
  });
}
