import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runMigrationSql } from './support/run-migration-sql.ts';

/** The queue layer (schema pgmq): the pgmq extension where the server has it, else our fallback. */
export class QueueLayer1764150000000 implements MigrationInterface {
  readonly name = 'QueueLayer1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'up', []);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'down', []);
  }
}
