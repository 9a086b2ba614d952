import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ScheduleCatchUp, ScheduleOverlap } from '../types/schedule-options.ts';
import { PGFLOW_SCHEMA } from './pgflow-entity.constants.ts';

/**
 * A flow's cron schedule (`pgflow.schedules`, from `@FlowSchedule()`), for reading. The library
 * owns the rows: it syncs them at boot and its workers fire them; pause and resume through FlowClient.
 */
@Entity({ schema: PGFLOW_SCHEMA, name: 'schedules', synchronize: false })
export class ScheduleEntity {
  @PrimaryColumn({ name: 'schedule_name', type: 'text' })
  scheduleName!: string;

  @Column({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  @Column({ name: 'cron', type: 'text' })
  cron!: string;

  @Column({ name: 'time_zone', type: 'text' })
  timeZone!: string;

  /** The input of its runs; null: `{ scheduledAt }`. */
  @Column({ name: 'input', type: 'jsonb', nullable: true })
  input!: unknown;

  @Column({ name: 'overlap', type: 'text' })
  overlap!: ScheduleOverlap;

  @Column({ name: 'catch_up', type: 'text' })
  catchUp!: ScheduleCatchUp;

  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true })
  pausedAt!: Date | null;

  @Column({ name: 'next_tick_at', type: 'timestamptz', nullable: true })
  nextTickAt!: Date | null;

  @Column({ name: 'last_tick_at', type: 'timestamptz', nullable: true })
  lastTickAt!: Date | null;

  @Column({ name: 'last_run_id', type: 'uuid', nullable: true })
  lastRunId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
