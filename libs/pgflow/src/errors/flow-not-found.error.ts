import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** How the missing flow was asked for. */
export type FlowReferenceKind = 'slug' | 'class';

/** A flow asked for by slug or by class that the application does not have. */
export class FlowNotFoundError extends PgflowError {
  override readonly name = 'FlowNotFoundError';
  /** The slug, or the class name, that was asked for. */
  readonly flow: string;
  /** Whether `flow` is a slug or a class name. */
  readonly reference: FlowReferenceKind;
  /** The slugs of the flows the application has. */
  readonly knownFlows: readonly string[];

  /**
   * @param detail replaces the generic explanation, when the caller knows more (for instance: the
   *   class has `@Flow()` but is not a provider of any module).
   */
  constructor(flow: string, reference: FlowReferenceKind, knownFlows: readonly string[], detail?: string) {
    const asked = reference === 'slug' ? `No flow with slug '${flow}'` : `No flow for class ${flow}`;
    const why =
      detail ??
      'A flow is a provider class decorated with @Flow({ slug }), listed in the providers of a module of ' +
        'the application that imports PgflowModule.';
    const known = knownFlows.length === 0 ? 'none' : knownFlows.map((slug) => `'${slug}'`).join(', ');
    super(PgflowErrorCode.FlowNotFound, `${asked} is registered. ${why} Known flows: ${known}.`);
    this.flow = flow;
    this.reference = reference;
    this.knownFlows = Object.freeze([...knownFlows]);
  }
}
