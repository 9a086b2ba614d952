/** `npm run migrate` end to end on a fresh database: apply all, up to date, revert the last. */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot } from '../../tools/local-postgres.ts';
import { createEmptyDatabase, type EmptyDatabase } from './support/empty-database.ts';

interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: string[], databaseUrl: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: projectRoot(),
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function recordedMigrations(database: EmptyDatabase): Promise<string[]> {
  const client = new pg.Client({ connectionString: database.url, application_name: 'pgflow test facts' });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select name from public.migrations order by id');
    return rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

const names = pgflowMigrations.map((Migration) => new Migration().name as string);
const last = names[names.length - 1] as string;

describe('npm run migrate', () => {
  it('applies every migration to a fresh database, then reports it up to date, and --revert undoes the last', async () => {
    const database = await createEmptyDatabase();

    const first = await run('npm', ['run', '--silent', 'migrate'], database.url);
    expect(first).toMatchObject({ code: 0 });
    for (const name of names) expect(first.output).toContain(`Applied ${name}.`);
    expect(await recordedMigrations(database)).toEqual(names);

    // The build above is enough for the next runs: call the compiled command directly.
    const second = await run(process.execPath, ['.build/tools/migrate.js'], database.url);
    expect(second).toMatchObject({ code: 0 });
    expect(second.output).toContain(`Database is up to date (${names.length} migrations).`);

    const revert = await run(process.execPath, ['.build/tools/migrate.js', '--revert'], database.url);
    expect(revert).toMatchObject({ code: 0 });
    expect(revert.output).toContain(`Reverted ${last}.`);
    expect(await recordedMigrations(database)).toEqual(names.slice(0, -1));

    const again = await run(process.execPath, ['.build/tools/migrate.js'], database.url);
    expect(again.output).toContain(`Applied ${last}.`);
    expect(await recordedMigrations(database)).toEqual(names);
  }, 120_000);
});
