/**
 * `npm run migration:generate -- <name>`: writes migrations/<timestamp>-<name>.ts, a new migration
 * holding every function of migrations/sql that differs from what the existing migrations create
 * (created, replaced or dropped, with the way back), and lists what else differs (tables, columns,
 * constraints, indexes, types), for which the migration needs statements written by hand.
 * `npm run migration:generate -- --check` only compares, and exits 1 when the migrations and the
 * current definitions disagree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot, startLocalPostgres } from '../local-postgres.ts';
import { functionChanges, functionsOf } from './function-changes.ts';
import { renderMigration } from './migration-file.ts';
import { describeDifferences, describeSchemas } from './schema-description.ts';
import { buildFromSource, createScratchDatabase, runMigrations } from './scratch-database.ts';
import { readSqlSource, type SourceSchema } from './sql-source.ts';

const USAGE = 'Usage: npm run migration:generate -- <name in kebab-case> | --check';
const SCHEMAS: readonly SourceSchema[] = ['pgmq', 'pgflow'];

class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<void> {
  const [arg, ...rest] = argv;
  if (arg === undefined || rest.length > 0) throw new UsageError(USAGE);
  const check = arg === '--check';
  if (!check && !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(arg)) {
    throw new UsageError(
      `'${arg}' is not a migration name: use lowercase words joined by '-' (e.g. run-control). ${USAGE}`,
    );
  }

  const server = await startLocalPostgres({ name: 'migration-generate', unsafeFast: true });
  const migrated = await createScratchDatabase(server.url, 'pgflow_migrated');
  const source = await createScratchDatabase(server.url, 'pgflow_source');
  try {
    await runMigrations(migrated.url, pgflowMigrations);
    await buildFromSource(source, SCHEMAS);
    const withoutFunctions = (lines: string[]) => lines.filter((line) => !line.startsWith('function '));
    const otherDifferences = describeDifferences(
      withoutFunctions(await describeSchemas(migrated.client, SCHEMAS)),
      withoutFunctions(await describeSchemas(source.client, SCHEMAS)),
    );
    const changes = new Map<SourceSchema, ReturnType<typeof functionChanges>>();
    for (const schema of SCHEMAS) {
      changes.set(
        schema,
        functionChanges(
          schema,
          await functionsOf(migrated.client, schema),
          await functionsOf(source.client, schema),
          readSqlSource(schema),
        ),
      );
    }
    const changedFunctions = [...changes.values()].flatMap((change) => change.changed);

    if (check) {
      report(changedFunctions, otherDifferences);
      if (changedFunctions.length + otherDifferences.length > 0) process.exitCode = 1;
      return;
    }
    if (changedFunctions.length + otherDifferences.length === 0) {
      console.log('The migrations already create the current definitions of migrations/sql: nothing to generate.');
      return;
    }
    const file = writeMigration(arg, changes, otherDifferences);
    report(changedFunctions, otherDifferences);
    console.log(`\nWrote ${file} and added it to migrations/index.ts.`);
    if (otherDifferences.length > 0) {
      console.log(
        'Write the statements for the differences above (ALTER TABLE ...) where the file says so, then run ' +
          '`npm run migration:generate -- --check` until it finds nothing, and `npm run migration:freeze`.',
      );
    } else {
      console.log('Run `npm test`, then `npm run migration:freeze` once the migration is final.');
    }
  } finally {
    await migrated.drop();
    await source.drop();
    await server.stop();
  }
}

function report(changedFunctions: readonly string[], otherDifferences: readonly string[]): void {
  if (changedFunctions.length + otherDifferences.length === 0) {
    console.log('The migrations create exactly the current definitions of migrations/sql.');
    return;
  }
  if (changedFunctions.length > 0) console.log(`Functions that differ:\n  ${changedFunctions.join('\n  ')}`);
  if (otherDifferences.length > 0) {
    console.log(
      `Other differences (- the migrations, + migrations/sql); a migration writes these by hand:\n  ${otherDifferences.join('\n  ')}`,
    );
  }
}

function writeMigration(
  name: string,
  changes: ReadonlyMap<SourceSchema, { up: readonly string[]; down: readonly string[] }>,
  otherDifferences: readonly string[],
): string {
  const timestamp = Date.now();
  const className = `${name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}${timestamp}`;
  const file = join('migrations', `${timestamp}-${name}.ts`);
  const root = projectRoot();
  if (existsSync(join(root, file))) throw new Error(`${file} exists already.`);
  writeFileSync(
    join(root, file),
    renderMigration(className, {
      engine: changes.get('pgflow') ?? { up: [], down: [] },
      fallback: changes.get('pgmq') ?? { up: [], down: [] },
      otherDifferences,
    }),
  );
  const index = join(root, 'migrations', 'index.ts');
  const text = readFileSync(index, 'utf8')
    .replace(/(\nimport [^\n]*\n)(?![\s\S]*\nimport )/, `$1import { ${className} } from './${timestamp}-${name}.ts';\n`)
    .replace(/\n\];\s*$/, `\n  ${className},\n];\n`);
  writeFileSync(index, text);
  spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['check', '--write', file, index], { cwd: root });
  return file;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
