import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** What kind of mistake a {@link FlowDefinitionProblem} is; stable, for code that branches on it. */
export type FlowDefinitionProblemCode =
  | 'MISSING_FLOW_DECORATOR'
  | 'FLOW_NOT_SINGLETON'
  | 'DUPLICATE_FLOW_SLUG'
  | 'INVALID_FLOW_SLUG'
  | 'INVALID_FLOW_ALIAS'
  | 'FLOW_NAME_TAKEN'
  | 'INVALID_OPTION'
  | 'UNKNOWN_OPTION'
  | 'NO_STEPS'
  | 'STEP_NOT_A_METHOD'
  | 'INVALID_STEP_SLUG'
  | 'DUPLICATE_STEP_SLUG'
  | 'INVALID_DEPENDS_ON'
  | 'UNKNOWN_DEPENDENCY'
  | 'DUPLICATE_DEPENDENCY'
  | 'SELF_DEPENDENCY'
  | 'CYCLE'
  | 'MAP_STEP_DEPENDENCIES'
  | 'INVALID_CONDITION_PATTERN'
  | 'CONDITION_MODE_WITHOUT_PATTERN'
  | 'INVALID_SCHEDULE'
  | 'DUPLICATE_SCHEDULE_NAME'
  | 'SCHEDULE_NAME_TAKEN';

/** One mistake in a flow class. */
export interface FlowDefinitionProblem {
  readonly code: FlowDefinitionProblemCode;
  /** The method the problem is about, when it is about one. */
  readonly methodName?: string;
  /** The text, naming the class, the method and the fix. */
  readonly message: string;
}

/**
 * A `@Flow()` class that cannot become a flow. Thrown at bootstrap (discovery), before anything
 * touches the database; lists every problem of the class at once.
 */
export class InvalidFlowDefinitionError extends PgflowError {
  override readonly name = 'InvalidFlowDefinitionError';
  /** Name of the offending class. */
  readonly flowClass: string;
  /** The flow slug, when the class declares a usable one. */
  readonly flowSlug: string | undefined;
  /** Every problem found in the class, in a stable order. */
  readonly problems: readonly FlowDefinitionProblem[];

  constructor(flowClass: string, flowSlug: string | undefined, problems: readonly FlowDefinitionProblem[]) {
    const slug = flowSlug === undefined ? '' : ` (flow '${flowSlug}')`;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const list = problems.map((problem, index) => `  ${index + 1}. ${problem.message}`).join('\n');
    super(
      PgflowErrorCode.InvalidDefinition,
      `Invalid flow class ${flowClass}${slug}: ${count}. Nothing was compiled; fix the class and restart.\n${list}`,
    );
    this.flowClass = flowClass;
    this.flowSlug = flowSlug;
    this.problems = Object.freeze([...problems]);
  }
}
