/**
 * TypeORM entities mapping the engine's tables (schema `pgflow`) for the application's own read
 * queries. None is synchronized: the library's migrations own the schema.
 */
import { DepEntity } from './dep.entity.ts';
import { FlowEntity } from './flow.entity.ts';
import { RunEntity } from './run.entity.ts';
import { ScheduleEntity } from './schedule.entity.ts';
import { ScheduleTickEntity } from './schedule-tick.entity.ts';
import { StepEntity } from './step.entity.ts';
import { StepStateEntity } from './step-state.entity.ts';
import { StepTaskEntity } from './step-task.entity.ts';
import { WorkerEntity } from './worker.entity.ts';

export {
  PGFLOW_SCHEMA,
  type RunStatus,
  type ScheduleTickOutcome,
  type SkipReason,
  type StepStateStatus,
  type StepTaskStatus,
} from './pgflow-entity.constants.ts';
export {
  DepEntity,
  FlowEntity,
  RunEntity,
  ScheduleEntity,
  ScheduleTickEntity,
  StepEntity,
  StepStateEntity,
  StepTaskEntity,
  WorkerEntity,
};

/** Every pgflow entity, for `TypeOrmModule.forFeature(pgflowEntities)` or a DataSource's `entities`. */
export const pgflowEntities = [
  FlowEntity,
  StepEntity,
  DepEntity,
  RunEntity,
  StepStateEntity,
  StepTaskEntity,
  WorkerEntity,
  ScheduleEntity,
  ScheduleTickEntity,
] as const;
