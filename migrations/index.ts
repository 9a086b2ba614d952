/**
 * The library's TypeORM migrations, in the order they apply. Append only: a released migration
 * never changes; a change is a new migration at the end of this list.
 */
import type { MigrationInterface } from 'typeorm';
import { QueueLayer1764150000000 } from './1764150000000-queue-layer.ts';
import { Engine1764150100000 } from './1764150100000-engine.ts';
import { SqlHelpers1796403403634 } from './1796403403634-sql-helpers.ts';
import { Hardening1796404397409 } from './1796404397409-hardening.ts';
import { PgmqSearchPath1796408033597 } from './1796408033597-pgmq-search-path.ts';

export const pgflowMigrations: ReadonlyArray<new () => MigrationInterface> = [
  QueueLayer1764150000000,
  Engine1764150100000,
  SqlHelpers1796403403634,
  Hardening1796404397409,
  PgmqSearchPath1796408033597,
];
