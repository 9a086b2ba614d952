export { DataSourceNotFoundError } from './data-source-not-found.error.ts';
export { DuplicateRegistrationError } from './duplicate-registration.error.ts';
export { type AssignedFlow, FlowAssignmentError, type FlowAssignmentProblem } from './flow-assignment.error.ts';
export { FlowNotFoundError, type FlowReferenceKind } from './flow-not-found.error.ts';
export { FlowShapeMismatchError } from './flow-shape-mismatch.error.ts';
export {
  type FlowDefinitionProblem,
  type FlowDefinitionProblemCode,
  InvalidFlowDefinitionError,
} from './invalid-flow-definition.error.ts';
export { describeValue, InvalidOptionsError } from './invalid-options.error.ts';
export { InvalidRunInputError } from './invalid-run-input.error.ts';
export { MigrationsNotAppliedError } from './migrations-not-applied.error.ts';
export { isNonRetryable, NonRetryableError } from './non-retryable.error.ts';
export { NotJsonError } from './not-json.error.ts';
export { PgflowError, PgflowErrorCode, type PgflowErrorOptions } from './pgflow.error.ts';
export { PgflowShutdownError } from './pgflow-shutdown.error.ts';
export { RunAlreadyExistsError } from './run-already-exists.error.ts';
export { RunCancelledError } from './run-cancelled.error.ts';
export { RunFailedError } from './run-failed.error.ts';
export { RunNotFoundError } from './run-not-found.error.ts';
export { RunNotRetryableError } from './run-not-retryable.error.ts';
export { ScheduleNotFoundError } from './schedule-not-found.error.ts';
export { type SignalRefusal, SignalRefusedError } from './signal-refused.error.ts';
export { TaskTimeoutError, type TimedOutTask } from './task-timeout.error.ts';
export { WaitTimeoutError } from './wait-timeout.error.ts';
