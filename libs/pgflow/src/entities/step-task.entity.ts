import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { PGFLOW_SCHEMA, type StepTaskStatus } from './pgflow-entity.constants.ts';
import { StepStateEntity } from './step-state.entity.ts';

/**
 * One unit of work of a step state (`pgflow.step_tasks`): one for a single step, one per array
 * element for a map step. For reading; the engine owns the table.
 */
@Entity({ schema: PGFLOW_SCHEMA, name: 'step_tasks', synchronize: false })
export class StepTaskEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @PrimaryColumn({ name: 'step_slug', type: 'text' })
  stepSlug!: string;

  @PrimaryColumn({ name: 'task_index', type: 'int' })
  taskIndex!: number;

  @Column({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  /** The queue message's id (a bigint, as a string). */
  @Column({ name: 'message_id', type: 'bigint', nullable: true })
  messageId!: string | null;

  @Column({ name: 'status', type: 'text' })
  status!: StepTaskStatus;

  @Column({ name: 'attempts_count', type: 'int' })
  attemptsCount!: number;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'output', type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ name: 'queued_at', type: 'timestamptz' })
  queuedAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  @Column({ name: 'last_worker_id', type: 'uuid', nullable: true })
  lastWorkerId!: string | null;

  @Column({ name: 'requeued_count', type: 'int' })
  requeuedCount!: number;

  @Column({ name: 'last_requeued_at', type: 'timestamptz', nullable: true })
  lastRequeuedAt!: Date | null;

  @Column({ name: 'permanently_stalled_at', type: 'timestamptz', nullable: true })
  permanentlyStalledAt!: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt!: Date | null;

  /** When a step's delayUntil put the task to sleep: the time it wakes (durable sleep). */
  @Column({ name: 'sleep_until', type: 'timestamptz', nullable: true })
  sleepUntil!: Date | null;

  /** Subflows: the child run a started task of a subflow step waits for; null otherwise. */
  @Column({ name: 'child_run_id', type: 'uuid', nullable: true })
  childRunId!: string | null;

  @ManyToOne(
    () => StepStateEntity,
    (stepState) => stepState.tasks,
  )
  @JoinColumn([
    { name: 'run_id', referencedColumnName: 'runId' },
    { name: 'step_slug', referencedColumnName: 'stepSlug' },
  ])
  stepState?: Relation<StepStateEntity>;
}
