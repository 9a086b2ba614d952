/**
 * Released migrations are frozen: migrations/frozen.json records a checksum of each one's SQL, and
 * a test fails when a migration's SQL no longer matches its checksum (or when a migration was
 * added without being frozen). `npm run migration:freeze` records the migrations that have no
 * checksum yet; it never changes one that has.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationInterface } from 'typeorm';
import { pgflowMigrations } from '../../migrations/index.ts';
import type { MigrationSql } from '../../migrations/support/apply-migration.ts';
import { projectRoot } from '../local-postgres.ts';

export const FROZEN_FILE = join('migrations', 'frozen.json');

/** A migration class of the library: its SQL is a static constant. */
export type MigrationClass = (new () => MigrationInterface) & { readonly sql?: MigrationSql };

export interface MigrationChecksum {
  /** The migration's name (its class name, which TypeORM records). */
  readonly name: string;
  readonly checksum: string;
}

export function migrationName(migration: MigrationClass): string {
  return new migration().name ?? migration.name;
}

/** sha256 of the migration's SQL, every part and statement in order. */
export function checksumOf(migration: MigrationClass): string {
  if (migration.sql === undefined) {
    throw new Error(
      `Migration ${migrationName(migration)} has no static \`sql\`: every migration keeps its SQL in a constant ` +
        '(see migrations/README.md), so that it can be frozen.',
    );
  }
  return createHash('sha256').update(JSON.stringify(migration.sql)).digest('hex');
}

export function currentChecksums(
  migrations: ReadonlyArray<MigrationClass> = pgflowMigrations as ReadonlyArray<MigrationClass>,
): MigrationChecksum[] {
  return migrations.map((migration) => ({ name: migrationName(migration), checksum: checksumOf(migration) }));
}

export function readFrozen(): MigrationChecksum[] {
  return JSON.parse(readFileSync(join(projectRoot(), FROZEN_FILE), 'utf8')) as MigrationChecksum[];
}

export function writeFrozen(entries: readonly MigrationChecksum[]): void {
  writeFileSync(join(projectRoot(), FROZEN_FILE), `${JSON.stringify(entries, null, 2)}\n`);
}

/**
 * What is wrong with the migrations against the frozen checksums: one sentence per problem, each
 * naming the migration and the fix. Empty when every migration is frozen and unchanged.
 */
export function frozenProblems(current: readonly MigrationChecksum[], frozen: readonly MigrationChecksum[]): string[] {
  const problems: string[] = [];
  const byName = new Map(current.map((entry) => [entry.name, entry]));
  // Released migrations keep their order; a new one may go between them (TypeORM orders by timestamp).
  const releasedOrder = current.filter((entry) => frozen.some((f) => f.name === entry.name));
  for (const [index, entry] of frozen.entries()) {
    const now = byName.get(entry.name);
    if (now === undefined) {
      problems.push(
        `Released migration ${entry.name} is gone from pgflowMigrations. Released migrations are never removed: ` +
          'databases have applied it. Put it back (migrations/index.ts).',
      );
    } else if (now.checksum !== entry.checksum) {
      problems.push(
        `Released migration ${entry.name} changed: its SQL no longer matches its checksum in ${FROZEN_FILE}. ` +
          'Released migrations are immutable (databases have applied the old SQL, new ones would get the new): ' +
          'revert the change, edit the current definitions in migrations/sql instead, and write a new migration ' +
          'with `npm run migration:generate -- <name>`.',
      );
    } else if (releasedOrder[index]?.name !== entry.name) {
      problems.push(
        `Released migration ${entry.name} moved in pgflowMigrations: migrations apply in the order they were ` +
          'released. Put new migrations at the end of the list.',
      );
    }
  }
  const frozenNames = new Set(frozen.map((entry) => entry.name));
  for (const entry of current) {
    if (!frozenNames.has(entry.name)) {
      problems.push(
        `Migration ${entry.name} is not frozen: run \`npm run migration:freeze\` once it is final (from then on ` +
          'it never changes).',
      );
    }
  }
  return problems;
}
