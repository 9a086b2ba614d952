import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, type Relation } from 'typeorm';
import { PGFLOW_SCHEMA, type SkipReason, type StepStateStatus } from './pgflow-entity.constants.ts';
import { RunEntity } from './run.entity.ts';
import { StepEntity } from './step.entity.ts';
import { StepTaskEntity } from './step-task.entity.ts';

/** One step inside one run (`pgflow.step_states`), for reading. The engine owns the table. */
@Entity({ schema: PGFLOW_SCHEMA, name: 'step_states', synchronize: false })
export class StepStateEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @PrimaryColumn({ name: 'step_slug', type: 'text' })
  stepSlug!: string;

  @Column({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  @Column({ name: 'status', type: 'text' })
  status!: StepStateStatus;

  /** null until the step starts; 0 once it completed. */
  @Column({ name: 'remaining_tasks', type: 'int', nullable: true })
  remainingTasks!: number | null;

  /** 1 for a single step; the array's length for a map step once known (null until then). */
  @Column({ name: 'initial_tasks', type: 'int', nullable: true })
  initialTasks!: number | null;

  @Column({ name: 'remaining_deps', type: 'int' })
  remainingDeps!: number;

  /** Set once completed (a map step: the array of its task outputs, in task order). */
  @Column({ name: 'output', type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  /** Set exactly when the status is skipped. */
  @Column({ name: 'skip_reason', type: 'text', nullable: true })
  skipReason!: SkipReason | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  @Column({ name: 'skipped_at', type: 'timestamptz', nullable: true })
  skippedAt!: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt!: Date | null;

  @ManyToOne(
    () => RunEntity,
    (run) => run.stepStates,
  )
  @JoinColumn({ name: 'run_id', referencedColumnName: 'runId' })
  run?: Relation<RunEntity>;

  /** The step's definition (its step_index gives the step order). */
  @ManyToOne(() => StepEntity)
  @JoinColumn([
    { name: 'flow_slug', referencedColumnName: 'flowSlug' },
    { name: 'step_slug', referencedColumnName: 'stepSlug' },
  ])
  step?: Relation<StepEntity>;

  /** The step's tasks (load with `relations: { tasks: true }`). */
  @OneToMany(
    () => StepTaskEntity,
    (task) => task.stepState,
  )
  tasks?: Array<Relation<StepTaskEntity>>;
}
