import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, type Relation } from 'typeorm';
import { FlowEntity } from './flow.entity.ts';
import { PGFLOW_SCHEMA, type RunStatus } from './pgflow-entity.constants.ts';
import { StepStateEntity } from './step-state.entity.ts';

/**
 * A run of a flow (`pgflow.runs`), for reading (`@InjectRepository(RunEntity)`). The engine owns
 * the table: start runs with FlowClient.
 */
@Entity({ schema: PGFLOW_SCHEMA, name: 'runs', synchronize: false })
export class RunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @Column({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  @Column({ name: 'status', type: 'text' })
  status!: RunStatus;

  @Column({ name: 'input', type: 'jsonb' })
  input!: unknown;

  /** One key per completed leaf step, once the run completed; else null. */
  @Column({ name: 'output', type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ name: 'remaining_steps', type: 'int' })
  remainingSteps!: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt!: Date | null;

  /** The reason given to FlowClient.cancel(), when cancelled with one. */
  @Column({ name: 'cancel_reason', type: 'text', nullable: true })
  cancelReason!: string | null;

  /** The idempotencyKey the run was started with (unique per flow). */
  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  /** The priority the run was started with (higher runs' tasks are claimed first); 0 by default. */
  @Column({ name: 'priority', type: 'int', default: 0 })
  priority!: number;

  /** The W3C traceparent of the span that started the run (tracing with OpenTelemetry), or null. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;

  /** Subflows: the run whose task started this run as its child, that task's step and index; null for other runs. */
  @Column({ name: 'parent_run_id', type: 'uuid', nullable: true })
  parentRunId!: string | null;

  @Column({ name: 'parent_step_slug', type: 'text', nullable: true })
  parentStepSlug!: string | null;

  @Column({ name: 'parent_task_index', type: 'int', nullable: true })
  parentTaskIndex!: number | null;

  /** The key of its flow's rate limit the run's tasks count against (`rateLimit.key`), or null. */
  @Column({ name: 'rate_limit_key', type: 'text', nullable: true })
  rateLimitKey!: string | null;

  /** The key of its flow's per-key concurrency limit the run counts against (`concurrencyKey`), or null. */
  @Column({ name: 'concurrency_key', type: 'text', nullable: true })
  concurrencyKey!: string | null;

  /**
   * null (no per-key limit applies), 'waiting' (over its key's limit: none of its steps started) or
   * 'admitted' (holds one of its key's slots while in progress).
   */
  @Column({ name: 'concurrency_state', type: 'text', nullable: true })
  concurrencyState!: 'waiting' | 'admitted' | null;

  /** A waiting run's place in its key's line (lower first, after priority); a bigint, as a string. */
  @Column({ name: 'concurrency_ticket', type: 'bigint', nullable: true })
  concurrencyTicket!: string | null;

  @ManyToOne(() => FlowEntity)
  @JoinColumn({ name: 'flow_slug', referencedColumnName: 'flowSlug' })
  flow?: Relation<FlowEntity>;

  /** The run's step states (load with `relations: { stepStates: true }`). */
  @OneToMany(
    () => StepStateEntity,
    (stepState) => stepState.run,
  )
  stepStates?: Array<Relation<StepStateEntity>>;
}
