import { Column, Entity, OneToMany, PrimaryColumn, type Relation } from 'typeorm';
import { PGFLOW_SCHEMA } from './pgflow-entity.constants.ts';
import { StepEntity } from './step.entity.ts';

/**
 * A compiled flow (`pgflow.flows`), for reading. The engine owns the table: write through the
 * library, never through a repository. `synchronize: false` keeps TypeORM's schema sync and
 * migration generation away from it.
 */
@Entity({ schema: PGFLOW_SCHEMA, name: 'flows', synchronize: false })
export class FlowEntity {
  @PrimaryColumn({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  @Column({ name: 'opt_max_attempts', type: 'int' })
  optMaxAttempts!: number;

  @Column({ name: 'opt_base_delay', type: 'int' })
  optBaseDelay!: number;

  @Column({ name: 'opt_timeout', type: 'int' })
  optTimeout!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** The name the flow's versions share (`@Flow({ alias })`), or null; an addition to pgflow's columns. */
  @Column({ name: 'alias', type: 'text', nullable: true })
  alias!: string | null;
  /** Set while the flow is paused (FlowClient.pauseFlow): no worker starts its tasks. */
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true })
  pausedAt!: Date | null;
  /** Rate limit (`@Flow({ rateLimit })`): at most this many task starts per window, or null for none. */
  @Column({ name: 'opt_rate_limit', type: 'int', nullable: true })
  optRateLimit!: number | null;
  /** The rate limit's window, in seconds (windows aligned to the epoch), or null for none. */
  @Column({ name: 'opt_rate_period', type: 'int', nullable: true })
  optRatePeriod!: number | null;
  /** Concurrency limit (`@Flow({ concurrency })` without a key): at most this many tasks started at once, or null. */
  @Column({ name: 'opt_concurrency', type: 'int', nullable: true })
  optConcurrency!: number | null;
  /** Per-key concurrency limit (`@Flow({ concurrency, concurrencyKey })`): runs in progress per key, or null. */
  @Column({ name: 'opt_concurrency_per_key', type: 'int', nullable: true })
  optConcurrencyPerKey!: number | null;

  /** The flow's steps (load with `relations: { steps: true }`). */
  @OneToMany(
    () => StepEntity,
    (step) => step.flow,
  )
  steps?: Array<Relation<StepEntity>>;
}
