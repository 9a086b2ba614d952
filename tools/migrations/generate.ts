/**
 * `npm run migration:generate -- <name>`: writes migrations/<timestamp>-<name>.ts, a new migration
 * holding every function of migrations/sql that differs from what the existing migrations create
 * (created, replaced or dropped, with the way back), and lists what else differs (tables, columns,
 * constraints, indexes, types), for which the migration needs statements written by hand. Run
 * again with the same name while that migration is not frozen, it regenerates it in place (against
 * the migrations before it), keeping its hand-written statements.
 * `npm run migration:generate -- --check` only compares, and exits 1 when the migrations and the
 * current definitions disagree.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot, startLocalPostgres } from '../local-postgres.ts';
import { readFrozen } from './frozen-migrations.ts';
import { functionChanges, functionsOf } from './function-changes.ts';
import { type GeneratedMigration, handWrittenOf, renderMigration } from './migration-file.ts';
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

  const existing = check ? undefined : existingMigration(arg);
  // Regenerating: compare with what the migrations before this one create.
  const earlier = pgflowMigrations.filter((migration) => new migration().name !== existing?.className);
  const server = await startLocalPostgres({ name: 'migration-generate', unsafeFast: true });
  const migrated = await createScratchDatabase(server.url, 'pgflow_migrated');
  const source = await createScratchDatabase(server.url, 'pgflow_source');
  try {
    await runMigrations(migrated.url, earlier);
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
    const file = writeMigration(arg, existing, changes, otherDifferences);
    report(changedFunctions, otherDifferences);
    console.log(
      existing
        ? `\nRegenerated ${file}, keeping its hand-written statements.`
        : `\nWrote ${file} and added it to migrations/index.ts.`,
    );
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

interface ExistingMigration {
  readonly file: string;
  readonly className: string;
  readonly text: string;
}

/** The unfrozen migration of that name, if there is one (a frozen one cannot be regenerated). */
function existingMigration(name: string): ExistingMigration | undefined {
  const root = projectRoot();
  const file = readdirSync(join(root, 'migrations')).find((f) => f.endsWith(`-${name}.ts`) && /^\d+-/.test(f));
  if (file === undefined) return undefined;
  const text = readFileSync(join(root, 'migrations', file), 'utf8');
  const className = /export class (\w+) implements MigrationInterface/.exec(text)?.[1];
  if (className === undefined) throw new Error(`migrations/${file} has no migration class.`);
  if (readFrozen().some((entry) => entry.name === className)) {
    throw new UsageError(
      `Migration ${className} (migrations/${file}) is frozen: it never changes. Choose a new name for a new migration.`,
    );
  }
  return { file: join('migrations', file), className, text };
}

function writeMigration(
  name: string,
  existing: ExistingMigration | undefined,
  changes: ReadonlyMap<SourceSchema, { up: readonly string[]; down: readonly string[] }>,
  otherDifferences: readonly string[],
): string {
  const root = projectRoot();
  const timestamp = existing ? Number(/^migrations\/(\d+)-/.exec(existing.file)?.[1]) : Date.now();
  const className =
    existing?.className ?? `${name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}${timestamp}`;
  const file = existing?.file ?? join('migrations', `${timestamp}-${name}.ts`);
  const migration: GeneratedMigration = {
    engine: changes.get('pgflow') ?? { up: [], down: [] },
    fallback: changes.get('pgmq') ?? { up: [], down: [] },
    otherDifferences,
    handWritten: handWrittenOf(existing?.text),
  };
  writeFileSync(join(root, file), renderMigration(className, migration));
  const index = join(root, 'migrations', 'index.ts');
  if (!existing) {
    const text = readFileSync(index, 'utf8')
      .replace(
        /(\nimport [^\n]*\n)(?![\s\S]*\nimport )/,
        `$1import { ${className} } from './${timestamp}-${name}.ts';\n`,
      )
      .replace(/\n\];\s*$/, `\n  ${className},\n];\n`);
    writeFileSync(index, text);
  }
  spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['check', '--write', file, index], { cwd: root });
  return file;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
