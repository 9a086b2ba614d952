/**
 * The base class of every error the library throws on purpose. Branch on `code` (stable across
 * releases), never on the message text.
 */
export const PgflowErrorCode = {
  InvalidDefinition: 'PGFLOW_INVALID_DEFINITION',
  FlowNotFound: 'PGFLOW_FLOW_NOT_FOUND',
  InvalidInput: 'PGFLOW_INVALID_INPUT',
  NotJson: 'PGFLOW_NOT_JSON',
  ShapeMismatch: 'PGFLOW_SHAPE_MISMATCH',
  RunNotFound: 'PGFLOW_RUN_NOT_FOUND',
  RunFailed: 'PGFLOW_RUN_FAILED',
  WaitTimeout: 'PGFLOW_WAIT_TIMEOUT',
  InvalidOptions: 'PGFLOW_INVALID_OPTIONS',
  RunAlreadyExists: 'PGFLOW_RUN_EXISTS',
  ShuttingDown: 'PGFLOW_SHUTTING_DOWN',
  TaskTimeout: 'PGFLOW_TASK_TIMEOUT',
  MigrationsNotApplied: 'PGFLOW_MIGRATIONS_NOT_APPLIED',
  DataSourceNotFound: 'PGFLOW_DATA_SOURCE_NOT_FOUND',
  DuplicateRegistration: 'PGFLOW_DUPLICATE_REGISTRATION',
  FlowAssignment: 'PGFLOW_FLOW_ASSIGNMENT',
  RunCancelled: 'PGFLOW_RUN_CANCELLED',
  NonRetryable: 'PGFLOW_NON_RETRYABLE',
  RunNotRetryable: 'PGFLOW_RUN_NOT_RETRYABLE',
  ScheduleNotFound: 'PGFLOW_SCHEDULE_NOT_FOUND',
  SignalRefused: 'PGFLOW_SIGNAL_REFUSED',
} as const;

export type PgflowErrorCode = (typeof PgflowErrorCode)[keyof typeof PgflowErrorCode];

export interface PgflowErrorOptions {
  /** The error that caused this one (kept as `cause`). */
  readonly cause?: unknown;
}

export abstract class PgflowError extends Error {
  /** Stable machine-readable code, e.g. `PGFLOW_FLOW_NOT_FOUND`. */
  readonly code: PgflowErrorCode;

  protected constructor(code: PgflowErrorCode, message: string, options: PgflowErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    // Each subclass also sets `name` to a literal (a minifier may rename the class itself).
    this.name = new.target.name;
  }
}
