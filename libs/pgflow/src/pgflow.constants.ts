/**
 * Tokens, metadata keys and engine constants of the library. Everything that names something at
 * runtime lives here, so no file spells a token or a key inline.
 */

/** Injection token of the resolved module options ({@link ResolvedPgflowOptions}). */
export const PGFLOW_MODULE_OPTIONS = 'PGFLOW_MODULE_OPTIONS';

/** Injection token of the options as the user gave them, before defaults and validation. */
export const PGFLOW_RAW_OPTIONS = 'PGFLOW_RAW_OPTIONS';

/**
 * The name of the registration on the default TypeORM DataSource (as @nestjs/typeorm names that
 * DataSource). A registration is named after its DataSource: one per DataSource.
 */
export const DEFAULT_REGISTRATION = 'default';

/** The name of the PgflowModule registration on DataSource `dataSource` (undefined: the default one). */
export function registrationName(dataSource: string | undefined): string {
  return dataSource ?? DEFAULT_REGISTRATION;
}

/**
 * Injection token of the FlowClient of one registration, the one on DataSource `dataSource` [the
 * default one]: it starts and reads runs in that database only. Inject `FlowClient` itself for the
 * client that routes every flow to its registration's database.
 */
export function getFlowClientToken(dataSource?: string): string {
  return `PgflowFlowClient:${registrationName(dataSource)}`;
}

/** Injection token of the PgflowWorker of the registration on DataSource `dataSource` [the default one]. */
export function getPgflowWorkerToken(dataSource?: string): string {
  return `PgflowWorker:${registrationName(dataSource)}`;
}

/** Reflect metadata key of `@Flow()` (on the class). */
export const FLOW_METADATA = 'pgflow:flow';

/** Reflect metadata key of `@FlowSchedule()` (on the class: the list of its schedules, in declaration order). */
export const FLOW_SCHEDULE_METADATA = 'pgflow:flow-schedule';

/** Reflect metadata key of `@Step()` (on the method function). */
export const STEP_METADATA = 'pgflow:step';

/**
 * Reflect metadata key, on the class, of `@Step()` decorations that did not land on an instance
 * method (a property, an accessor, a static method, a symbol-named method, a second `@Step()`), kept
 * so that validation can name them instead of silently ignoring them.
 */
export const MISPLACED_STEP_METADATA = 'pgflow:misplaced-step';

/** A valid flow or step slug (engine `pgflow.is_valid_slug`). */
export const SLUG_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Longest valid slug (engine `pgflow.is_valid_slug`). */
export const SLUG_MAX_LENGTH = 128;

/**
 * Longest flow slug: a flow slug is also its queue's name, and the queue layer refuses names over
 * 47 characters (its tables are named `q_<name>` and `a_<name>` within PostgreSQL's 63-byte limit).
 */
export const FLOW_SLUG_MAX_LENGTH = 47;

/** Slugs the engine reserves (pgflow passes the run input to steps under the key `run`). */
export const RESERVED_SLUGS: readonly string[] = ['run'];

/**
 * What the engine uses when a flow leaves an option unset (`pgflow.create_flow` defaults). A step
 * that leaves an option unset inherits the flow's value; a start delay defaults to 0.
 */
export const ENGINE_DEFAULTS = {
  maxAttempts: 3,
  baseDelay: 5,
  timeout: 60,
  startDelay: 0,
} as const;

/** Largest value of a PostgreSQL `int` column (the engine stores every option as `int`). */
export const PG_INT_MAX = 2_147_483_647;

/**
 * Largest accepted value of an option in seconds (baseDelay, timeout, startDelay): one year. Larger
 * values are milliseconds given by mistake far more often than real needs, and the engine adds to
 * them in `int` arithmetic (a stalled task is one started longer than timeout + 30 s ago).
 */
export const MAX_SECONDS_OPTION = 31_536_000;
