import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CREATE_EXTENSION, chooseImplementation, pgmqMode, readPgmqState } from './queue-layer/detect.ts';
import { fallbackDown, fallbackUp } from './queue-layer/fallback.ts';
import { FALLBACK_MARKER } from './queue-layer/schema.ts';
import { runMigrationSql } from './support/run-migration-sql.ts';

/**
 * The queue layer (schema pgmq): the pgmq extension where the server has it, else our fallback.
 * PGFLOW_PGMQ (auto | extension | fallback) is read when the migration runs; see
 * queue-layer/detect.ts for the decision.
 */
export class QueueLayer1764150000000 implements MigrationInterface {
  readonly name = 'QueueLayer1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mode = pgmqMode();
    const implementation = chooseImplementation(mode, await readPgmqState(queryRunner));
    await runMigrationSql(
      queryRunner,
      this.name,
      'up',
      implementation === 'extension' ? [CREATE_EXTENSION] : fallbackUp,
    );
  }

  /** Removes the fallback with everything in it; a real extension stays (other code may use it). */
  async down(queryRunner: QueryRunner): Promise<void> {
    const state = await readPgmqState(queryRunner);
    const fallbackInstalled =
      state.installed === null && state.schemaExists && (state.schemaComment?.startsWith(FALLBACK_MARKER) ?? false);
    await runMigrationSql(queryRunner, this.name, 'down', fallbackInstalled ? fallbackDown : []);
  }
}
