import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import type { FlowClass, FlowReference } from '../types/flow-class.ts';
import { FlowExplorer } from './flow.explorer.ts';
import { PgflowMetadataAccessor } from './pgflow-metadata.accessor.ts';

/**
 * The application's flows, discovered once in `onModuleInit` (or at the first lookup, if that comes
 * earlier). Look flows up by slug or by class; a class lookup also accepts the class a provider was
 * registered under (`{ provide: MyFlow, useClass: MyFlowMock }`) and any class declaring the slug.
 */
@Injectable()
export class FlowRegistry implements OnModuleInit {
  private loaded?: {
    readonly all: readonly FlowDefinition[];
    readonly bySlug: ReadonlyMap<string, FlowDefinition>;
    readonly byClass: ReadonlyMap<unknown, FlowDefinition>;
  };

  constructor(
    private readonly explorer: FlowExplorer,
    private readonly accessor: PgflowMetadataAccessor,
  ) {}

  onModuleInit(): void {
    this.load();
  }

  /** Every flow, in discovery order. */
  getAll(): readonly FlowDefinition[] {
    return this.load().all;
  }

  /** The slugs of every flow, in discovery order. */
  getSlugs(): string[] {
    return this.getAll().map((definition) => definition.slug);
  }

  /** The flow with this slug or class, or undefined. */
  find(flow: FlowReference): FlowDefinition | undefined {
    const { bySlug, byClass } = this.load();
    if (typeof flow === 'string') return bySlug.get(flow);
    const slug = this.accessor.getDeclaredSlug(flow);
    return byClass.get(flow) ?? (slug === undefined ? undefined : bySlug.get(slug));
  }

  /** The flow with this slug or class; throws a {@link FlowNotFoundError} saying how to register it. */
  get(flow: FlowReference): FlowDefinition {
    const found = this.find(flow);
    if (found !== undefined) return found;
    if (typeof flow === 'string') throw new FlowNotFoundError(flow, 'slug', this.getSlugs());
    throw new FlowNotFoundError(flowName(flow), 'class', this.getSlugs(), this.whyClassIsMissing(flow));
  }

  /** The flows for a list of references (e.g. the worker's `flows` option); throws on the first unknown. */
  getMany(flows: readonly FlowReference[]): FlowDefinition[] {
    return flows.map((flow) => this.get(flow));
  }

  private whyClassIsMissing(flow: FlowClass): string {
    const name = flowName(flow);
    if (typeof flow !== 'function') return `${describe(flow)} is neither a flow slug nor a flow class.`;
    if (!this.accessor.isFlow(flow)) return `Class ${name} has no @Flow({ slug }) decorator.`;
    const slug = this.accessor.getDeclaredSlug(flow);
    return (
      `Class ${name} has @Flow(${slug === undefined ? '' : `{ slug: '${slug}' }`}) but no instance of it was ` +
      'discovered: list it in the providers of a module of the application that imports PgflowModule.'
    );
  }

  private load(): NonNullable<FlowRegistry['loaded']> {
    if (this.loaded === undefined) {
      const discovered = this.explorer.discover();
      const byClass = new Map<unknown, FlowDefinition>();
      for (const { definition, token } of discovered) {
        byClass.set(definition.flowClass, definition);
        if (typeof token === 'function' && !byClass.has(token)) byClass.set(token, definition);
      }
      const all = Object.freeze(discovered.map(({ definition }) => definition));
      this.loaded = { all, bySlug: new Map(all.map((definition) => [definition.slug, definition])), byClass };
    }
    return this.loaded;
  }
}

function flowName(flow: unknown): string {
  return typeof flow === 'function' && flow.name ? flow.name : describe(flow);
}

function describe(value: unknown): string {
  return typeof value === 'function' ? '(anonymous class)' : String(value);
}
