/**
 * SQLSTATEs the library branches on: the engine's own (class PF, raised by the pgflow functions),
 * the ones that mean "the connection, not the statement, failed", and the ones that mean "this
 * statement lost a race or ran out of time; the same statement may well succeed later".
 */
export const EngineSqlState = {
  InvalidSlug: 'PF001',
  FlowNotFound: 'PF002',
  DependencyNotFound: 'PF003',
  SelfDependency: 'PF004',
  MapDependencyCount: 'PF005',
  RootMapInputNotArray: 'PF006',
  InvalidOption: 'PF007',
  RunAlreadyExists: 'PF008',
  RunNotFound: 'PF009',
  TaskNotFound: 'PF010',
  InputTooLarge: 'PF011',
  MapTooLarge: 'PF012',
  /** An alias that is a flow's slug, or a slug that is a flow's alias (pgflow._sync_flow_alias). */
  FlowNameTaken: 'PF016',
  /** retry_run on a run in progress, or on a completed one without from_step. */
  RunNotRetryable: 'PF013',
  /** retry_run's from_step names no step of the run's flow. */
  StepNotFound: 'PF014',
  /** retry_run on a run whose flow's steps changed since it started. */
  FlowShapeChanged: 'PF015',
  /** pause_schedule / resume_schedule of a name no schedule has. */
  ScheduleNotFound: 'PF020',
  /** sync_schedules: the schedule name belongs to another flow's schedule. */
  ScheduleNameTaken: 'PF021',
  /** sync_schedules / fire_schedule: a schedule declaration or argument the engine refuses. */
  InvalidSchedule: 'PF022',
  /** send_signal to a run that has ended. */
  SignalRunEnded: 'PF040',
  /** send_signal of a name no step of the run's flow waits for. */
  SignalUnknown: 'PF041',
  /** send_signal of a name the run already received. */
  SignalDuplicate: 'PF042',
  /** send_signal to a run whose signal step ended without it (skipped, timed out). */
  SignalStepEnded: 'PF043',
  /** start_flow / start_flows with a priority out of range (FlowClient checks it first). */
  PriorityOutOfRange: 'PF060',
  /** ensure_flow_compiled: a shape's options.rateLimit the engine refuses (pgflow._sync_flow_rate_limit). */
  InvalidRateLimit: 'PF070',
  /** start_flows: a rate limit key that is not 1 to 255 characters, or not one per input. */
  InvalidRateLimitKey: 'PF071',
  /**
   * ensure_flow_compiled: a shape's options.concurrency, options.concurrencyPerKey or step
   * options.concurrency the engine refuses (pgflow._sync_flow_concurrency).
   */
  InvalidConcurrency: 'PF080',
  /** start_flows: a concurrency key that is not 1 to 255 characters, or not one per input. */
  InvalidConcurrencyKey: 'PF081',
} as const;

/** The SQLSTATE of an error from pg or from TypeORM (which wraps pg's error as driverError). */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  const driverError = (error as { driverError?: unknown }).driverError;
  return driverError === undefined ? undefined : sqlStateOf(driverError);
}

/** A text field (`detail`, `hint`) of a PostgreSQL error from pg or from TypeORM (wrapped as driverError). */
export function sqlErrorField(error: unknown, field: 'detail' | 'hint'): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[field];
  if (typeof value === 'string') return value;
  const driverError = (error as { driverError?: unknown }).driverError;
  return driverError === undefined ? undefined : sqlErrorField(driverError, field);
}

/** Errors of statements that the driver raised without an answer from the server (see markDriverFailure). */
const driverFailures = new WeakSet<object>();

/**
 * Records that a statement failed in the driver, not in the server: the server reports every failed
 * statement with a SQLSTATE (pg's DatabaseError); an error without one (the connection ended
 * mid-statement, a client left unusable by an earlier connection error, a pool that timed out
 * connecting or was ended) means the statement never got an answer. PgflowDatabase marks these.
 */
export function markDriverFailure(error: unknown): void {
  if (typeof error === 'object' && error !== null) driverFailures.add(error);
}

/**
 * True when the error says the connection or the server is unavailable (lost connection, server
 * shutting down, too many connections), as opposed to a statement that failed on its own: the first
 * kind is retried with a backoff, the second is not. Decided by the SQLSTATE, the system error code,
 * or the driver failure mark, never by the message text.
 */
export function isConnectionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) {
    // 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now; 53300: too many connections.
    return state.startsWith('08') || /^57P0[1-4]$/.test(state) || state === '53300';
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) {
    return true;
  }
  return typeof error === 'object' && error !== null && driverFailures.has(error);
}

/**
 * Statements that failed because of what else was running at that moment, not because of what they
 * carry: 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available (a
 * lock_timeout, or NOWAIT), 57014 query_canceled (a statement_timeout, or pg_cancel_backend). The
 * same statement sent again later is expected to succeed.
 */
const TRANSIENT_SQL_STATES: ReadonlySet<string> = new Set(['40001', '40P01', '55P03', '57014']);

/** True when the statement failed for a reason of the moment (see TRANSIENT_SQL_STATES). */
export function isTransientError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && TRANSIENT_SQL_STATES.has(state);
}

/**
 * True when sending the same statement again later is the right response: the database was
 * unreachable, or the statement failed for a reason of the moment. Anything else is a refusal of
 * what the statement carries, which a retry would only repeat.
 */
export function isRetryableError(error: unknown): boolean {
  return isConnectionError(error) || isTransientError(error);
}
