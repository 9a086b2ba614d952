import { DataSource, type EntityMetadata } from 'typeorm';
import {
  DepEntity,
  FlowEntity,
  pgflowEntities,
  RunEntity,
  ScheduleEntity,
  ScheduleTickEntity,
  StepEntity,
  StepStateEntity,
  StepTaskEntity,
  WorkerEntity,
} from './index.ts';

/** A DataSource that builds its entity metadata without connecting. */
class MetadataOnlyDataSource extends DataSource {
  build(): Promise<void> {
    return this.buildMetadatas();
  }
}

/** The engine's tables and columns (spec/engine.md), which the entities must map exactly. */
const TABLES: Record<string, { entity: unknown; primary: string[]; columns: string[] }> = {
  flows: {
    entity: FlowEntity,
    primary: ['flow_slug'],
    columns: [
      'flow_slug',
      'opt_max_attempts',
      'opt_base_delay',
      'opt_timeout',
      'created_at',
      'alias',
      'paused_at',
      'opt_rate_limit',
      'opt_rate_period',
      'opt_concurrency',
      'opt_concurrency_per_key',
    ],
  },
  steps: {
    entity: StepEntity,
    primary: ['flow_slug', 'step_slug'],
    columns: [
      'flow_slug',
      'step_slug',
      'step_type',
      'step_index',
      'deps_count',
      'opt_max_attempts',
      'opt_base_delay',
      'opt_timeout',
      'opt_start_delay',
      'opt_concurrency',
      'required_input_pattern',
      'forbidden_input_pattern',
      'when_unmet',
      'when_exhausted',
      'created_at',
    ],
  },
  deps: {
    entity: DepEntity,
    primary: ['flow_slug', 'dep_slug', 'step_slug'],
    columns: ['flow_slug', 'dep_slug', 'step_slug', 'created_at'],
  },
  runs: {
    entity: RunEntity,
    primary: ['run_id'],
    columns: [
      'run_id',
      'flow_slug',
      'status',
      'input',
      'output',
      'remaining_steps',
      'started_at',
      'completed_at',
      'failed_at',
      'cancelled_at',
      'cancel_reason',
      'idempotency_key',
      'trace_context',
      'parent_run_id',
      'parent_step_slug',
      'parent_task_index',
      'priority',
      'rate_limit_key',
      'concurrency_key',
      'concurrency_state',
      'concurrency_ticket',
    ],
  },
  step_states: {
    entity: StepStateEntity,
    primary: ['run_id', 'step_slug'],
    columns: [
      'run_id',
      'step_slug',
      'flow_slug',
      'status',
      'remaining_tasks',
      'initial_tasks',
      'remaining_deps',
      'output',
      'error_message',
      'skip_reason',
      'created_at',
      'started_at',
      'completed_at',
      'failed_at',
      'skipped_at',
      'cancelled_at',
    ],
  },
  step_tasks: {
    entity: StepTaskEntity,
    primary: ['run_id', 'step_slug', 'task_index'],
    columns: [
      'run_id',
      'step_slug',
      'task_index',
      'flow_slug',
      'message_id',
      'status',
      'attempts_count',
      'error_message',
      'output',
      'queued_at',
      'started_at',
      'completed_at',
      'failed_at',
      'last_worker_id',
      'requeued_count',
      'last_requeued_at',
      'permanently_stalled_at',
      'cancelled_at',
      'sleep_until',
      'child_run_id',
    ],
  },
  workers: {
    entity: WorkerEntity,
    primary: ['worker_id'],
    columns: [
      'worker_id',
      'queue_name',
      'function_name',
      'started_at',
      'deprecated_at',
      'stopped_at',
      'last_heartbeat_at',
    ],
  },
  schedules: {
    entity: ScheduleEntity,
    primary: ['schedule_name'],
    columns: [
      'schedule_name',
      'flow_slug',
      'cron',
      'time_zone',
      'input',
      'overlap',
      'catch_up',
      'paused_at',
      'next_tick_at',
      'last_tick_at',
      'last_run_id',
      'created_at',
      'updated_at',
    ],
  },
  schedule_ticks: {
    entity: ScheduleTickEntity,
    primary: ['schedule_name', 'tick_at'],
    columns: ['schedule_name', 'tick_at', 'outcome', 'run_id', 'error_message', 'created_at'],
  },
};

describe('pgflow entities', () => {
  let dataSource: MetadataOnlyDataSource;
  const metadataOf = (entity: unknown): EntityMetadata => dataSource.getMetadata(entity as typeof FlowEntity);

  beforeAll(async () => {
    dataSource = new MetadataOnlyDataSource({ type: 'postgres', entities: [...pgflowEntities] });
    await dataSource.build();
  });

  it('lists every entity once', () => {
    expect(new Set(pgflowEntities).size).toBe(9);
    expect(dataSource.entityMetadatas).toHaveLength(9);
  });

  it.each(Object.entries(TABLES))('map pgflow.%s with its exact columns and primary key', (table, expected) => {
    const metadata = metadataOf(expected.entity);
    expect(metadata.schema).toBe('pgflow');
    expect(metadata.tableName).toBe(table);
    expect(metadata.tablePath).toBe(`pgflow.${table}`);
    expect(metadata.columns.map((column) => column.databaseName).sort()).toEqual([...expected.columns].sort());
    expect(metadata.primaryColumns.map((column) => column.databaseName)).toEqual(expected.primary);
  });

  it('are left out of schema synchronization and migration generation', () => {
    for (const metadata of dataSource.entityMetadatas) expect(metadata.synchronize).toBe(false);
  });

  it('use camelCase properties, jsonb for JSON values and timestamptz for times', () => {
    const runs = metadataOf(RunEntity);
    const column = (name: string) => runs.findColumnWithDatabaseName(name);
    expect(column('remaining_steps')?.propertyName).toBe('remainingSteps');
    expect(column('input')?.type).toBe('jsonb');
    expect(column('output')?.isNullable).toBe(true);
    expect(column('started_at')?.type).toBe('timestamptz');
    expect(metadataOf(StepTaskEntity).findColumnWithDatabaseName('message_id')?.type).toBe('bigint');
    expect(metadataOf(StepEntity).findColumnWithDatabaseName('required_input_pattern')?.propertyName).toBe(
      'requiredInputPattern',
    );
  });

  it('relate a run to its step states, a step state to its tasks, and a flow to its steps', () => {
    const relation = (entity: unknown, property: string) =>
      metadataOf(entity).relations.find((candidate) => candidate.propertyName === property);
    expect(relation(RunEntity, 'stepStates')?.inverseEntityMetadata.target).toBe(StepStateEntity);
    expect(relation(StepStateEntity, 'run')?.joinColumns.map((column) => column.databaseName)).toEqual(['run_id']);
    expect(relation(StepStateEntity, 'tasks')?.inverseEntityMetadata.target).toBe(StepTaskEntity);
    expect(relation(StepTaskEntity, 'stepState')?.joinColumns.map((column) => column.databaseName)).toEqual([
      'run_id',
      'step_slug',
    ]);
    expect(relation(FlowEntity, 'steps')?.inverseEntityMetadata.target).toBe(StepEntity);
    expect(relation(StepStateEntity, 'step')?.joinColumns.map((column) => column.databaseName)).toEqual([
      'flow_slug',
      'step_slug',
    ]);
    for (const metadata of dataSource.entityMetadatas) {
      for (const candidate of metadata.relations) {
        expect(candidate.isEager).toBe(false);
        expect(candidate.isLazy).toBe(false);
      }
    }
  });
});
