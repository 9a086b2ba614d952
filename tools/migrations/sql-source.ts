/**
 * The current definitions of the queue layer's fallback (schema pgmq) and of the engine (schema
 * pgflow): one file per object under migrations/sql/<schema>/, applied in file-name order
 * (`NNNN_<kind>_<name>.sql`, the layout pgflow uses). They are what a reviewer reads and what a
 * new migration is generated from (tools/migrations/generate.ts); the library itself ships only the
 * migrations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { projectRoot } from '../local-postgres.ts';

export type SourceSchema = 'pgmq' | 'pgflow';

export interface SourceFile {
  readonly schema: SourceSchema;
  /** The file name, e.g. `0200_function_start_flow.sql`. */
  readonly file: string;
  /** Path relative to the repository root. */
  readonly path: string;
  /** `function`, `table`, `type`, `schema` or `privileges`. */
  readonly kind: string;
  /** The object's name: a function's name for a function file. */
  readonly name: string;
  readonly text: string;
}

const FILE_NAME = /^(\d{4})_([a-z]+)(?:_(\w+))?\.sql$/;

export function sourceFolder(schema: SourceSchema): string {
  return join('migrations', 'sql', schema);
}

/** The source files of one schema, in the order they apply. */
export function readSqlSource(schema: SourceSchema): SourceFile[] {
  const folder = sourceFolder(schema);
  return readdirSync(join(projectRoot(), folder))
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) {
        throw new Error(
          `${join(folder, file)}: a source file's name is NNNN_<kind>_<name>.sql (e.g. 0200_function_start_flow.sql).`,
        );
      }
      const path = join(folder, file);
      return {
        schema,
        file,
        path,
        kind: match[2] as string,
        name: match[3] ?? (match[2] as string),
        text: readFileSync(join(projectRoot(), path), 'utf8'),
      };
    });
}

/** The schemas whose source applies to a database with this queue layer (the extension brings its own pgmq). */
export function sourceSchemas(queueLayer: 'fallback' | 'extension'): SourceSchema[] {
  return queueLayer === 'fallback' ? ['pgmq', 'pgflow'] : ['pgflow'];
}

/**
 * Builds the schemas from their current definitions, in one transaction, with function bodies
 * checked when they run rather than when they are created (as a migration applies them).
 */
export async function applySqlSource(client: pg.ClientBase, schemas: readonly SourceSchema[]): Promise<void> {
  await client.query('begin');
  try {
    await client.query('set local check_function_bodies to off');
    for (const schema of schemas) {
      for (const source of readSqlSource(schema)) {
        try {
          await client.query(source.text);
        } catch (error) {
          throw new Error(`${source.path}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}
