import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { MetadataScanner } from '@nestjs/core';
import type { FlowMetadata } from '../decorators/flow.decorator.ts';
import type { FlowScheduleMetadata } from '../decorators/flow-schedule.decorator.ts';
import type { MisplacedStep, StepMetadata } from '../decorators/step.decorator.ts';
import { FLOW_METADATA, FLOW_SCHEDULE_METADATA, MISPLACED_STEP_METADATA, STEP_METADATA } from '../pgflow.constants.ts';
import type { FlowClass } from '../types/flow-class.ts';

/** A `@Step()` method as declared: its name and its options exactly as given. */
export interface StepMethodMetadata {
  readonly methodName: string;
  readonly options: unknown;
}

/** Everything the decorators recorded about one class. */
export interface FlowClassMetadata {
  readonly flowClass: FlowClass;
  /** The `@Flow()` options as given; undefined when the class has no `@Flow()`. */
  readonly flowOptions: unknown;
  readonly hasFlowDecorator: boolean;
  /** `@Step()` methods, in declaration order (own methods, then inherited ones). */
  readonly steps: readonly StepMethodMetadata[];
  /** `@Step()` decorations that did not land on an instance method. */
  readonly misplacedSteps: readonly MisplacedStep[];
  /** `@FlowSchedule()` decorations, in declaration order (a subclass without its own inherits them). */
  readonly schedules: readonly FlowScheduleMetadata[];
}

/** Reads back what `@Flow()` and `@Step()` stored. */
@Injectable()
export class PgflowMetadataAccessor {
  constructor(private readonly scanner: MetadataScanner = new MetadataScanner()) {}

  /** Whether the class (or a class it extends) has `@Flow()`. */
  isFlow(target: unknown): boolean {
    return typeof target === 'function' && Reflect.hasMetadata(FLOW_METADATA, target);
  }

  /** The flow slug the class declares, when it declares a string one (not validated). */
  getDeclaredSlug(target: unknown): string | undefined {
    if (!this.isFlow(target)) return undefined;
    const { options } = Reflect.getMetadata(FLOW_METADATA, target as object) as FlowMetadata;
    const slug = (options as { slug?: unknown } | undefined)?.slug;
    return typeof slug === 'string' ? slug : undefined;
  }

  /**
   * Everything the decorators recorded on the class, or undefined when they recorded nothing
   * (neither `@Flow()` nor any `@Step()`): the class has nothing to do with flows.
   */
  read(flowClass: FlowClass): FlowClassMetadata | undefined {
    const flow = Reflect.getMetadata(FLOW_METADATA, flowClass) as FlowMetadata | undefined;
    const misplacedSteps =
      (Reflect.getMetadata(MISPLACED_STEP_METADATA, flowClass) as MisplacedStep[] | undefined) ?? [];
    const steps: StepMethodMetadata[] = [];
    const prototype = flowClass.prototype as Record<string, unknown>;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const step = typeof method === 'function' ? this.getStepMetadata(method) : undefined;
      if (step !== undefined) steps.push({ methodName, options: step.options });
    }
    const schedules =
      (Reflect.getMetadata(FLOW_SCHEDULE_METADATA, flowClass) as FlowScheduleMetadata[] | undefined) ?? [];
    if (flow === undefined && steps.length === 0 && misplacedSteps.length === 0 && schedules.length === 0) {
      return undefined;
    }
    return {
      flowClass,
      flowOptions: flow?.options,
      hasFlowDecorator: flow !== undefined,
      steps,
      misplacedSteps,
      schedules,
    };
  }

  /** What `@Step()` stored on a method function, if anything. */
  getStepMetadata(method: object): StepMetadata | undefined {
    return Reflect.getOwnMetadata(STEP_METADATA, method) as StepMetadata | undefined;
  }
}
