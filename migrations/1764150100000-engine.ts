import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runMigrationSql } from './support/run-migration-sql.ts';

/** The workflow engine (schema pgflow): definitions, runtime state and the functions that drive it. */
export class Engine1764150100000 implements MigrationInterface {
  readonly name = 'Engine1764150100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'up', []);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'down', []);
  }
}
