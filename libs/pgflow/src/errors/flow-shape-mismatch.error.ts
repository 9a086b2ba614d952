import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * The flow in the database differs from the flow in the code (compilation mode `verify`). The boot
 * stops rather than run new code against an old definition, or old runs against a new one.
 */
export class FlowShapeMismatchError extends PgflowError {
  override readonly name = 'FlowShapeMismatchError';
  readonly flowSlug: string;
  /** Human-readable differences, as the engine's `_compare_flow_shapes` reports them. */
  readonly differences: readonly string[];

  constructor(flowSlug: string, differences: readonly string[]) {
    const list = differences.map((difference) => `  - ${difference}`).join('\n');
    super(
      PgflowErrorCode.ShapeMismatch,
      `Flow '${flowSlug}' in the database differs from its definition in the code:\n${list}\n` +
        'A compiled flow never changes in place, because its runs depend on it. To ship the change, give ' +
        `the changed flow a new slug (for example '${flowSlug}_v2') and keep the old class until its runs ` +
        "finish. In local development only, set PgflowModule's `compilation: 'recompile'` to replace the flow " +
        'and delete its runs.',
    );
    this.flowSlug = flowSlug;
    this.differences = Object.freeze([...differences]);
  }
}
