/**
 * nestjs-pgflow: durable DAG workflows for NestJS, inside PostgreSQL. This file is the package's
 * whole public surface.
 */
export { pgflowMigrations } from '../../../migrations/index.ts';
export type { PgmqImplementation } from '../../../migrations/queue-layer/detect.ts';
export { type QueueLayerSwitch, switchQueueLayer } from '../../../migrations/queue-layer/switch.ts';
export { FlowClient } from './client/flow.client.ts';
export type {
  ChildRunSummary,
  CompletedRun,
  ParentTaskReference,
  RunEvent,
  RunEventListener,
  RunEventOptions,
  RunEventSubscription,
  RunEventType,
  RunSnapshot,
  RunStatusValue,
  StartManyOptions,
  StartRunOptions,
  StepSnapshot,
  StepStatusValue,
  TaskSnapshot,
  TaskStatusValue,
  WaitOptions,
} from './client/run.types.ts';
export type {
  CancelRunOptions,
  CancelRunResult,
  FlowPauseState,
  ListRunsOptions,
  RetryRunOptions,
  RunPage,
  RunSummary,
} from './client/run-control.types.ts';
export { RunHandle } from './client/run-handle.ts';
export type { SignalResult } from './client/run-signals.ts';
export { PgflowDashboardModule, type PgflowDashboardOptions } from './dashboard/index.ts';
export {
  Flow,
  FlowSchedule,
  InjectFlowClient,
  // The return types of Step()'s overloads: a user's own decorator that wraps Step() names them.
  type MapStepDecorator,
  type SingleStepDecorator,
  Step,
  type StepDecorator,
} from './decorators/index.ts';
// What FlowRegistry's methods return.
export {
  type FlowEventType,
  OnFlowEvent,
  type OnFlowEventOptions,
} from './decorators/on-flow-event.decorator.ts';
export type { FlowDefinition, StepDefinition } from './definition/flow-definition.ts';
// Kept: the only way for an application to list its flows and their steps (the example app's GET /flows).
export { FlowRegistry } from './discovery/flow.registry.ts';
export {
  DepEntity,
  FlowEntity,
  pgflowEntities,
  RunEntity,
  type RunStatus,
  ScheduleEntity,
  ScheduleTickEntity,
  type ScheduleTickOutcome,
  type SkipReason,
  StepEntity,
  StepStateEntity,
  type StepStateStatus,
  StepTaskEntity,
  type StepTaskStatus,
  WorkerEntity,
} from './entities/index.ts';
export {
  type AssignedFlow,
  DataSourceNotFoundError,
  DuplicateRegistrationError,
  FlowAssignmentError,
  type FlowAssignmentProblem,
  type FlowDefinitionProblem,
  type FlowDefinitionProblemCode,
  FlowNotFoundError,
  type FlowReferenceKind,
  FlowShapeMismatchError,
  InvalidFlowDefinitionError,
  InvalidOptionsError,
  InvalidRunInputError,
  MigrationsNotAppliedError,
  NonRetryableError,
  NotJsonError,
  PgflowError,
  PgflowErrorCode,
  type PgflowErrorOptions,
  PgflowShutdownError,
  RunAlreadyExistsError,
  RunCancelledError,
  RunFailedError,
  RunNotFoundError,
  RunNotRetryableError,
  ScheduleNotFoundError,
  type SignalRefusal,
  SignalRefusedError,
  TaskTimeoutError,
  type TimedOutTask,
  WaitTimeoutError,
} from './errors/index.ts';
export type { FlowEvent } from './events/flow-event-dispatcher.ts';
export {
  PgflowHealth,
  type PgflowHealthOptions,
  type PgflowHealthReport,
  type PgflowWorkerHealth,
} from './health/pgflow-health.service.ts';
export type { JsonObject, JsonValue } from './json/index.ts';
export { DEFAULT_REGISTRATION, getFlowClientToken, getPgflowWorkerToken } from './pgflow.constants.ts';
export { PgflowModule } from './pgflow.module.ts';
export type {
  CompilationMode,
  PgflowModuleAsyncOptions,
  PgflowModuleOptions,
  PgflowOptionsFactory,
  PgflowWorkerOptions,
} from './pgflow-options.ts';
export { PgflowRetention, type RetentionPass } from './retention/pgflow-retention.service.ts';
export type { PgflowRetentionOptions } from './retention/retention-options.ts';
export type { ScheduleInfo, SchedulePauseState } from './schedules/schedule.types.ts';
export {
  PgflowTesting,
  PgflowTestingBuilder,
  PgflowTestingModule,
  type PgflowTestingOptions,
  type StepReplacement,
  type TestRunOptions,
} from './testing/index.ts';
export type {
  FlowClass,
  FlowInput,
  FlowOptions,
  FlowOutput,
  FlowReference,
  FlowRetryOptions,
  MapItem,
  MapStepContext,
  SignalStepContext,
  StepContext,
  StepInput,
  // The constraint of StepInput's, StepOutput's and MapItem's second parameter: generic helpers over them name it.
  StepKey,
  StepOptions,
  StepOutput,
  StepType,
  WhenExhausted,
  WhenUnmet,
} from './types/index.ts';
export type { FlowScheduleOptions, ScheduleCatchUp, ScheduleOverlap } from './types/schedule-options.ts';
export { SubflowInput, subflowInput } from './types/subflow-input.ts';
export { PgflowWorker } from './worker/pgflow-worker.service.ts';
export type { WorkerState } from './worker/worker-state.ts';
