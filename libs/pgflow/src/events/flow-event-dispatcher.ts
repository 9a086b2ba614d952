import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { flowChannel } from '../db/engine.sql.ts';
import { NotificationListener } from '../db/notification-listener.ts';
import {
  type FlowEventSubscription,
  type FlowEventType,
  ON_FLOW_EVENT_METADATA,
} from '../decorators/on-flow-event.decorator.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../pgflow-options.ts';
import { PgflowRegistrations } from '../registration/pgflow-registrations.ts';

/** A run event of a flow, as `@OnFlowEvent` methods receive it. */
export interface FlowEvent {
  readonly event_type: FlowEventType;
  readonly run_id: string;
  readonly flow_slug: string;
  readonly status: string;
  /** run:failed: the error (at most 2,000 characters; the run holds it whole). */
  readonly error_message?: string;
  /** The run's key of its flow's per-key concurrency limit, when it has one (run:concurrency_limited, run:admitted...). */
  readonly concurrency_key?: string;
  readonly at: string;
}

interface Handler {
  readonly type: FlowEventType | '*';
  readonly call: (event: FlowEvent) => unknown;
  readonly name: string;
}

/**
 * Finds the `@OnFlowEvent` methods of every provider at bootstrap and delivers to them the run
 * events of their flows, from the engine's per-flow channel ('pgflow:flow:<slug>') on the process's
 * LISTEN connection. A handler that throws (or rejects) is logged; it never stops the others. With
 * several databases (a PgflowModule registration each), each registration's dispatcher listens, on its
 * database, to the channels of its own flows: a flow's events come from its database only.
 */
@Injectable()
export class FlowEventDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PgflowEvents');
  private unsubscribes: Array<() => Promise<void>> = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: FlowRegistry,
    private readonly listener: NotificationListener,
    private readonly registrations: PgflowRegistrations,
    @Inject(PGFLOW_MODULE_OPTIONS) private readonly options: ResolvedPgflowOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const byFlow = new Map<string, Handler[]>();
    const own = this.registrations.flowsOf(this.options.dataSource).map((flow) => flow.slug);
    for (const { instance, name, subscription, method } of this.declared()) {
      const flows =
        subscription.flow === undefined
          ? own
          : [this.registry.get(subscription.flow).slug].filter((slug) => own.includes(slug));
      const handler: Handler = { type: subscription.type, call: (event) => method.call(instance, event), name };
      for (const slug of flows) byFlow.set(slug, [...(byFlow.get(slug) ?? []), handler]);
    }
    for (const [slug, handlers] of byFlow) {
      this.unsubscribes.push(
        await this.listener.subscribe(flowChannel(slug), (payload) => this.deliver(payload, handlers)),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe().catch(() => {});
  }

  private *declared(): Generator<{
    instance: object;
    name: string;
    subscription: FlowEventSubscription;
    method: (event: FlowEvent) => unknown;
  }> {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[methodName];
        if (typeof method !== 'function') continue;
        const subscriptions = Reflect.getMetadata(ON_FLOW_EVENT_METADATA, method) as
          | FlowEventSubscription[]
          | undefined;
        for (const subscription of subscriptions ?? []) {
          yield {
            instance,
            name: `${instance.constructor.name}.${methodName}`,
            subscription,
            method: method as (event: FlowEvent) => unknown,
          };
        }
      }
    }
  }

  private deliver(payload: string, handlers: readonly Handler[]): void {
    let event: FlowEvent;
    try {
      event = JSON.parse(payload) as FlowEvent;
    } catch {
      return;
    }
    for (const handler of handlers) {
      if (handler.type !== '*' && handler.type !== event.event_type) continue;
      Promise.resolve()
        .then(() => handler.call(event))
        .catch((error: unknown) =>
          this.logger.error(
            `@OnFlowEvent handler ${handler.name} failed on ${event.event_type} of run ${event.run_id}: ` +
              `${(error as Error)?.message ?? String(error)}`,
            (error as Error)?.stack,
          ),
        );
    }
  }
}
