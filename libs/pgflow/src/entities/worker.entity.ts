import { Column, Entity, PrimaryColumn } from 'typeorm';
import { PGFLOW_SCHEMA } from './pgflow-entity.constants.ts';

/** A worker process serving a queue (`pgflow.workers`), for reading. The workers own the rows. */
@Entity({ schema: PGFLOW_SCHEMA, name: 'workers', synchronize: false })
export class WorkerEntity {
  @PrimaryColumn({ name: 'worker_id', type: 'uuid' })
  workerId!: string;

  @Column({ name: 'queue_name', type: 'text' })
  queueName!: string;

  @Column({ name: 'function_name', type: 'text' })
  functionName!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'deprecated_at', type: 'timestamptz', nullable: true })
  deprecatedAt!: Date | null;

  @Column({ name: 'stopped_at', type: 'timestamptz', nullable: true })
  stoppedAt!: Date | null;

  @Column({ name: 'last_heartbeat_at', type: 'timestamptz' })
  lastHeartbeatAt!: Date;
}
