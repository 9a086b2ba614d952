import { Column, Entity, PrimaryColumn } from 'typeorm';
import { PGFLOW_SCHEMA } from './pgflow-entity.constants.ts';

/** A dependency edge of a compiled flow (`pgflow.deps`): `stepSlug` depends on `depSlug`. */
@Entity({ schema: PGFLOW_SCHEMA, name: 'deps', synchronize: false })
export class DepEntity {
  @PrimaryColumn({ name: 'flow_slug', type: 'text' })
  flowSlug!: string;

  /** The step depended on. */
  @PrimaryColumn({ name: 'dep_slug', type: 'text' })
  depSlug!: string;

  /** The dependent step. */
  @PrimaryColumn({ name: 'step_slug', type: 'text' })
  stepSlug!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
