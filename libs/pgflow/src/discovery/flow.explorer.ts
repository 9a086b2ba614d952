import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { buildFlowDefinition } from '../definition/flow-definition.builder.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import type { FlowClass } from '../types/flow-class.ts';
import { PgflowMetadataAccessor } from './pgflow-metadata.accessor.ts';
import { subflowErrors } from './subflow-graph.ts';

/** A discovered flow and the provider it came from. */
export interface DiscoveredFlow {
  readonly definition: FlowDefinition;
  /** The provider's injection token (a class token is also a way to look the flow up). */
  readonly token: unknown;
}

/**
 * Finds the flows among all the application's providers: classes with `@Flow()`, registered as
 * classes, `useClass`, `useValue` (an instance of the class) or `useFactory` (returning one). Runs
 * after every provider is instantiated (call it from `onModuleInit` or later).
 *
 * - A request-scoped or transient flow (or one depending on a request-scoped provider) is an error:
 *   a worker runs steps outside any request, on one instance, so such a flow could never run, and
 *   skipping it would only move the failure to every start().
 * - A provider that was not instantiated is skipped with a warning.
 * - A provider with `@Step()` methods but no `@Flow()` is an error (its steps would silently never
 *   run), like any invalid flow.
 * - Two classes with the same flow slug are an error naming both; so is an alias that is the slug of
 *   a flow, and so is a schedule name two flows declare (unless they are versions under one alias).
 * - A subflow step's child flow that is not a discovered flow is an error; so is a cycle of subflows.
 * - The same class registered under several tokens is one flow (the first instance found runs the
 *   steps), with a warning.
 * When several classes are invalid, each error is logged and the first is thrown.
 */
@Injectable()
export class FlowExplorer {
  private readonly logger = new Logger(FlowExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly accessor: PgflowMetadataAccessor,
  ) {}

  /** The definitions of every flow of the application, in discovery order. */
  explore(): FlowDefinition[] {
    return this.discover().map((flow) => flow.definition);
  }

  /** Like {@link explore}, with the provider token of each flow. */
  discover(): DiscoveredFlow[] {
    const flows: DiscoveredFlow[] = [];
    const errors: InvalidFlowDefinitionError[] = [];
    const byClass = new Map<FlowClass, DiscoveredFlow>();
    const bySlug = new Map<string, DiscoveredFlow>();

    for (const wrapper of this.discovery.getProviders()) {
      // A useExisting alias resolves to a provider that is listed itself.
      if (wrapper.isAlias) continue;
      const flowClass = providerClass(wrapper);
      if (flowClass === undefined) continue;
      const metadata = this.accessor.read(flowClass);
      if (metadata === undefined) continue;
      const notSingleton = notSingletonError(wrapper, flowClass, metadata.flowOptions);
      if (notSingleton !== undefined) {
        errors.push(notSingleton);
        continue;
      }
      if (!this.hasInstance(wrapper, flowClass)) continue;
      const known = byClass.get(flowClass);
      if (known !== undefined) {
        this.logger.warn(
          `${flowClass.name} is registered as a provider more than once (tokens ${tokenName(known.token)} and ` +
            `${tokenName(wrapper.token)}); its steps run on the first instance found. Register a flow class once.`,
        );
        continue;
      }
      let flow: DiscoveredFlow;
      try {
        flow = { definition: buildFlowDefinition(metadata, wrapper.instance as object), token: wrapper.token };
      } catch (error) {
        if (!(error instanceof InvalidFlowDefinitionError)) throw error;
        errors.push(error);
        continue;
      }
      const sameSlug = bySlug.get(flow.definition.slug);
      if (sameSlug !== undefined) {
        errors.push(duplicateSlugError(sameSlug.definition, flow.definition));
        continue;
      }
      byClass.set(flowClass, flow);
      bySlug.set(flow.definition.slug, flow);
      flows.push(flow);
    }
    for (const flow of flows) {
      const named = flow.definition.alias === null ? undefined : bySlug.get(flow.definition.alias);
      if (named !== undefined) errors.push(aliasIsASlugError(flow.definition, named.definition));
    }
    errors.push(...subflowErrors(flows.map((flow) => flow.definition)));
    const bySchedule = new Map<string, FlowDefinition>();
    for (const { definition } of flows) {
      for (const schedule of definition.schedules) {
        const owner = bySchedule.get(schedule.name);
        if (owner === undefined) bySchedule.set(schedule.name, definition);
        // Versions of a flow (one alias) may declare the same schedule: the newest boot takes it over.
        else if (owner.alias === null || owner.alias !== definition.alias) {
          errors.push(duplicateScheduleError(owner, definition, schedule.name));
        }
      }
    }

    if (errors.length > 1) {
      for (const error of errors.slice(1)) this.logger.error(error.message, error.stack);
    }
    if (errors[0] !== undefined) throw errors[0];
    return flows;
  }

  /** Whether the provider has an instance steps can run on; warns when it has not. */
  private hasInstance(wrapper: InstanceWrapper, flowClass: FlowClass): boolean {
    if (wrapper.instance !== null && typeof wrapper.instance === 'object') return true;
    this.logger.warn(
      `Flow class ${flowClass.name} is skipped: its provider has no instance (it was not instantiated).`,
    );
    return false;
  }
}

/** The error for a flow provider that is not a singleton (request-scoped or transient), if it is not. */
function notSingletonError(
  wrapper: InstanceWrapper,
  flowClass: FlowClass,
  flowOptions: unknown,
): InvalidFlowDefinitionError | undefined {
  let scope: string | undefined;
  if (wrapper.isTransient) scope = 'transient scope (Scope.TRANSIENT: a new instance per injection)';
  else if (!wrapper.isDependencyTreeStatic()) {
    scope = 'request scope (Scope.REQUEST, or a dependency on a request-scoped provider)';
  }
  if (scope === undefined) return undefined;
  const slug = (flowOptions as { slug?: unknown } | undefined)?.slug;
  return new InvalidFlowDefinitionError(flowClass.name, typeof slug === 'string' ? slug : undefined, [
    {
      code: 'FLOW_NOT_SINGLETON',
      message:
        `the provider of ${flowClass.name} has ${scope}, but flows must be singleton-scoped: a worker runs steps ` +
        'outside any request, on one long-lived instance. Register the flow and everything it injects with the ' +
        'default scope; pass per-run data in the run input instead of through request-scoped providers.',
    },
  ]);
}

/**
 * The class of a provider's instance: the registered class, or, for a `useValue` or `useFactory`
 * provider (no metatype, or a factory function), the constructor of the instance it produced.
 */
function providerClass(wrapper: InstanceWrapper): FlowClass | undefined {
  const candidate = wrapper.isNotMetatype
    ? (wrapper.instance as object | null | undefined)?.constructor
    : wrapper.metatype;
  return typeof candidate === 'function' && candidate !== Object ? (candidate as FlowClass) : undefined;
}

function duplicateSlugError(first: FlowDefinition, second: FlowDefinition): InvalidFlowDefinitionError {
  return new InvalidFlowDefinitionError(second.className, second.slug, [
    {
      code: 'DUPLICATE_FLOW_SLUG',
      message:
        `${second.className} and ${first.className} both declare @Flow({ slug: '${second.slug}' }); a flow slug ` +
        `names one flow in the database. Give one of them another slug.`,
    },
  ]);
}

function duplicateScheduleError(
  first: FlowDefinition,
  second: FlowDefinition,
  name: string,
): InvalidFlowDefinitionError {
  return new InvalidFlowDefinitionError(second.className, second.slug, [
    {
      code: 'DUPLICATE_SCHEDULE_NAME',
      message:
        `${second.className} and ${first.className} (flow '${first.slug}') both declare a schedule named '${name}'; a ` +
        "schedule name is unique in the database. Give one of them another name: @FlowSchedule(cron, { name: '...' }).",
    },
  ]);
}

function aliasIsASlugError(flow: FlowDefinition, named: FlowDefinition): InvalidFlowDefinitionError {
  return new InvalidFlowDefinitionError(flow.className, flow.slug, [
    {
      code: 'FLOW_NAME_TAKEN',
      message:
        `@Flow({ alias: '${flow.alias}' }) is the slug of flow ${named.className}, so starting '${flow.alias}' would ` +
        'start that flow, never the newest version under the alias. Give the versions an alias no flow has as its ' +
        `slug (e.g. slugs '${flow.alias}_v1', '${flow.alias}_v2' under alias '${flow.alias}').`,
    },
  ]);
}

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name;
  return typeof token === 'symbol' ? token.toString() : `'${String(token)}'`;
}
