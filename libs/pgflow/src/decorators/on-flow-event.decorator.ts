import { SetMetadata } from '@nestjs/common';
import type { FlowReference } from '../types/flow-class.ts';

export const ON_FLOW_EVENT_METADATA = 'pgflow:on-flow-event';

/** The run events `@OnFlowEvent` delivers: every run of a flow, in every process that declares one. */
export type FlowEventType =
  | 'run:started'
  | 'run:completed'
  | 'run:failed'
  | 'run:deleted'
  | 'run:cancelled'
  | 'run:retried'
  | 'run:concurrency_limited'
  | 'run:admitted';

export interface OnFlowEventOptions {
  /** Only the runs of this flow (class or slug) [every flow this process knows]. */
  readonly flow?: FlowReference;
}

/** What `@OnFlowEvent` records on a method (a method may carry several). */
export interface FlowEventSubscription {
  readonly type: FlowEventType | '*';
  readonly flow: FlowReference | undefined;
}

/**
 * Calls the decorated method of any provider with each run event of `type` ('*': all of them), of
 * every run of the flow (or of every flow this process knows), in every process that declares it:
 * `@OnFlowEvent('run:failed') alert(event: FlowEvent) {...}`. Events are notifications: progress,
 * not proof (read the run with FlowClient.getRun for its outcome).
 */
export function OnFlowEvent(type: FlowEventType | '*', options: OnFlowEventOptions = {}): MethodDecorator {
  return (target, key, descriptor) => {
    const method = descriptor.value as unknown as object;
    const existing = (Reflect.getMetadata(ON_FLOW_EVENT_METADATA, method) as FlowEventSubscription[] | undefined) ?? [];
    SetMetadata(ON_FLOW_EVENT_METADATA, [...existing, { type, flow: options.flow }])(target, key, descriptor);
  };
}
