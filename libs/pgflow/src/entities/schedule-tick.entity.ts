import { Column, Entity, PrimaryColumn } from 'typeorm';
import { PGFLOW_SCHEMA, type ScheduleTickOutcome } from './pgflow-entity.constants.ts';

/** A tick a schedule fired or skipped (`pgflow.schedule_ticks`), for reading: one row per tick. */
@Entity({ schema: PGFLOW_SCHEMA, name: 'schedule_ticks', synchronize: false })
export class ScheduleTickEntity {
  @PrimaryColumn({ name: 'schedule_name', type: 'text' })
  scheduleName!: string;

  @PrimaryColumn({ name: 'tick_at', type: 'timestamptz' })
  tickAt!: Date;

  @Column({ name: 'outcome', type: 'text' })
  outcome!: ScheduleTickOutcome;

  /** The run the tick started (outcome 'started'). */
  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId!: string | null;

  /** Why the run could not start (outcome 'failed'). */
  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
