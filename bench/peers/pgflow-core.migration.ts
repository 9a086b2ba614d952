/**
 * pgflow's own SQL engine, from the npm package @pgflow/core (its Supabase migrations ship in the
 * package, under dist/supabase/migrations), installed on top of OUR queue layer
 * (QueueLayer1764150000000) instead of the pgmq extension, as a TypeORM migration so that the bench
 * server clones it from a template like any other database. Two changes, nothing else:
 * - the `CREATE EXTENSION IF NOT EXISTS "pgmq"` line of its first migration is left out: our queue
 *   layer provides the pgmq schema and API (pgmq 1.5's, with message headers, which its last
 *   migration checks for);
 * - Supabase's `realtime.send(payload, event, topic, private)`, which pgflow calls to broadcast its
 *   events, is a stub that does nothing (there is no Supabase Realtime here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const CREATE_PGMQ_EXTENSION = /^CREATE EXTENSION IF NOT EXISTS "pgmq" WITH SCHEMA "pgmq";$/m;

export const REALTIME_STUB = `
create schema if not exists realtime;
create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
  returns void language sql as 'select null';`;

/** The folder of @pgflow/core's migrations, and their file names in order. */
export function pgflowCoreMigrationFiles(): { folder: string; files: string[] } {
  const require = createRequire(import.meta.url);
  const folder = join(dirname(require.resolve('@pgflow/core/package.json')), 'dist', 'supabase', 'migrations');
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  return { folder, files };
}

export class PgflowCore1764150500000 implements MigrationInterface {
  readonly name = 'PgflowCore1764150500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(REALTIME_STUB);
    const { folder, files } = pgflowCoreMigrationFiles();
    for (const file of files) {
      const text = readFileSync(join(folder, file), 'utf8');
      await queryRunner.query(text.replace(CREATE_PGMQ_EXTENSION, '-- (pgmq: the queue layer of nestjs-pgflow)'));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('drop schema if exists pgflow cascade');
    await queryRunner.query('drop schema if exists realtime cascade');
  }
}
