/**
 * The functions a new migration must create, replace or drop: the difference between a database
 * migrated by every existing migration and one built from the current definitions, per function
 * name, with the statements that go up (to the current definitions) and down (back).
 */
import type pg from 'pg';
import type { SourceFile, SourceSchema } from './sql-source.ts';

interface FunctionRow {
  readonly schema: SourceSchema;
  readonly name: string;
  readonly args: string;
  readonly result: string;
  readonly definition: string;
}

export interface FunctionChanges {
  /** Qualified names of the functions that differ, for the report. */
  readonly changed: readonly string[];
  readonly up: readonly string[];
  readonly down: readonly string[];
}

const FUNCTIONS = /* sql */ `
select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as args,
       pg_get_function_result(p.oid) as result, pg_get_functiondef(p.oid) as definition
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where n.nspname = $1 and p.prokind = 'f'
 order by p.proname, args`;

export async function functionsOf(client: pg.ClientBase, schema: SourceSchema): Promise<FunctionRow[]> {
  return (await client.query<FunctionRow>(FUNCTIONS, [schema])).rows;
}

/** What turns `released` (the migrated database's functions) into `current` (the source's). */
export function functionChanges(
  schema: SourceSchema,
  released: readonly FunctionRow[],
  current: readonly FunctionRow[],
  sources: readonly SourceFile[],
): FunctionChanges {
  const names = [...new Set([...released, ...current].map((row) => row.name))].sort();
  const changed: string[] = [];
  const up: string[] = [];
  const down: string[] = [];
  for (const name of names) {
    const before = released.filter((row) => row.name === name);
    const after = current.filter((row) => row.name === name);
    if (sameFunctions(before, after)) continue;
    changed.push(`${schema}.${name}`);
    up.push(...dropsOf(schema, before, after));
    if (after.length > 0) up.push(createOrReplace(sourceOf(schema, name, sources).text));
    down.push(...dropsOf(schema, after, before));
    down.push(...before.map((row) => row.definition));
  }
  if (changed.length > 0) {
    // A new function is executable by PUBLIC; nothing here grants anything to anyone.
    const revoke = `revoke execute on all functions in schema ${schema} from public`;
    up.push(revoke);
    down.push(revoke);
  }
  return { changed, up, down };
}

function sameFunctions(a: readonly FunctionRow[], b: readonly FunctionRow[]): boolean {
  const key = (rows: readonly FunctionRow[]) => rows.map((row) => `${row.args}\n${row.definition}`).join('\n\n');
  return key(a) === key(b);
}

/** Drops the overloads of `from` that `to` does not have with the same result (replace cannot change them). */
function dropsOf(schema: SourceSchema, from: readonly FunctionRow[], to: readonly FunctionRow[]): string[] {
  return from
    .filter((row) => !to.some((other) => other.args === row.args && other.result === row.result))
    .map((row) => `drop function ${schema}.${row.name}(${row.args})`);
}

function sourceOf(schema: SourceSchema, name: string, sources: readonly SourceFile[]): SourceFile {
  const source = sources.find((file) => file.kind === 'function' && file.name === name);
  if (source === undefined) {
    throw new Error(
      `Function ${schema}.${name} has no source file NNNN_function_${name}.sql in migrations/sql/${schema}.`,
    );
  }
  return source;
}

/** The source's `create function` statements as `create or replace function`. */
function createOrReplace(text: string): string {
  return text.replace(/^create function /gim, 'create or replace function ').trim();
}
