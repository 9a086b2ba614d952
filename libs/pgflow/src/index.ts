/**
 * nestjs-pgflow: durable DAG workflows for NestJS, inside PostgreSQL. This file is the package's
 * whole public surface.
 */
export { pgflowMigrations } from '../../../migrations/index.ts';
export { FlowClient } from './client/flow.client.ts';
export type {
  CompletedRun,
  RunEvent,
  RunEventListener,
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
export { RunHandle } from './client/run-handle.ts';
export {
  Flow,
  type MapHandlerCheck,
  type MapStepDecorator,
  type SingleHandlerCheck,
  type SingleStepDecorator,
  Step,
  type StepDecorator,
} from './decorators/index.ts';
export type { FlowDefinition, StepDefinition } from './definition/flow-definition.ts';
export { FlowRegistry } from './discovery/flow.registry.ts';
export {
  DepEntity,
  FlowEntity,
  pgflowEntities,
  RunEntity,
  type RunStatus,
  type SkipReason,
  StepEntity,
  StepStateEntity,
  type StepStateStatus,
  StepTaskEntity,
  type StepTaskStatus,
  WorkerEntity,
} from './entities/index.ts';
export {
  DataSourceNotFoundError,
  type FlowDefinitionProblem,
  type FlowDefinitionProblemCode,
  FlowNotFoundError,
  type FlowReferenceKind,
  FlowShapeMismatchError,
  InvalidFlowDefinitionError,
  InvalidOptionsError,
  InvalidRunInputError,
  MigrationsNotAppliedError,
  NotJsonError,
  PgflowError,
  PgflowErrorCode,
  type PgflowErrorOptions,
  PgflowShutdownError,
  RunAlreadyExistsError,
  RunFailedError,
  RunNotFoundError,
  WaitTimeoutError,
} from './errors/index.ts';
export type { JsonObject, JsonValue } from './json/index.ts';
export { PGFLOW_MODULE_OPTIONS } from './pgflow.constants.ts';
export { PgflowModule } from './pgflow.module.ts';
export type {
  CompilationMode,
  PgflowModuleAsyncOptions,
  PgflowModuleOptions,
  PgflowOptionsFactory,
  PgflowWorkerOptions,
  ResolvedPgflowOptions,
  ResolvedPgflowWorkerOptions,
} from './pgflow-options.ts';
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
  IsMapHandler,
  MapItem,
  MapStepContext,
  StepContext,
  StepDependencies,
  StepInput,
  StepKey,
  StepOptions,
  StepOutput,
  StepType,
  WhenExhausted,
  WhenUnmet,
} from './types/index.ts';
export { PgflowWorker } from './worker/pgflow-worker.service.ts';
export { TaskTimeoutError } from './worker/task-execution.ts';
export type { WorkerState } from './worker/worker-state.ts';
