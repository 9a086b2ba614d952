/**
 * The library's TypeORM migrations, in the order they apply. Append only: a released migration
 * never changes; a change is a new migration at the end of this list.
 */
import type { MigrationInterface } from 'typeorm';

export const pgflowMigrations: ReadonlyArray<new () => MigrationInterface> = [];
