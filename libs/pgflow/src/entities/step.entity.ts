import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { StepType, WhenExhausted, WhenUnmet } from '../types/step-options.ts';
import { FlowEntity } from './flow.entity.ts';
import { PGFLOW_SCHEMA } from './pgflow-entity.constants.ts';

/** A step of a compiled flow (`pgflow.steps`), for reading. The engine owns the table. */
@Entity({ schema: PGFLOW_SCHEMA, name: 'steps', synchronize: false })
export class StepEntity {
  @PrimaryColumn({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  @PrimaryColumn({ name: 'step_slug', type: 'text' })
  stepSlug!: string;

  @Column({ name: 'step_type', type: 'text' })
  stepType!: StepType;

  /** Order of addition: a topological order of the flow's steps. */
  @Column({ name: 'step_index', type: 'int' })
  stepIndex!: number;

  @Column({ name: 'deps_count', type: 'int' })
  depsCount!: number;

  /** null: inherits the flow's. */
  @Column({ name: 'opt_max_attempts', type: 'int', nullable: true })
  optMaxAttempts!: number | null;

  @Column({ name: 'opt_base_delay', type: 'int', nullable: true })
  optBaseDelay!: number | null;

  @Column({ name: 'opt_timeout', type: 'int', nullable: true })
  optTimeout!: number | null;

  @Column({ name: 'opt_start_delay', type: 'int', nullable: true })
  optStartDelay!: number | null;

  /** `@Step({ concurrency })`: at most this many tasks of the step started at once, or null for no limit. */
  @Column({ name: 'opt_concurrency', type: 'int', nullable: true })
  optConcurrency!: number | null;

  /** `if`: a JSON object the condition input must contain, or null. */
  @Column({ name: 'required_input_pattern', type: 'jsonb', nullable: true })
  requiredInputPattern!: unknown;

  /** `ifNot`: a JSON object the condition input must not contain, or null. */
  @Column({ name: 'forbidden_input_pattern', type: 'jsonb', nullable: true })
  forbiddenInputPattern!: unknown;

  @Column({ name: 'when_unmet', type: 'text' })
  whenUnmet!: WhenUnmet;

  @Column({ name: 'when_exhausted', type: 'text' })
  whenExhausted!: WhenExhausted;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(
    () => FlowEntity,
    (flow) => flow.steps,
  )
  @JoinColumn({ name: 'flow_slug', referencedColumnName: 'flowSlug' })
  flow?: Relation<FlowEntity>;
}
