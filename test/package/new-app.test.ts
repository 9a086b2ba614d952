/**
 * What a new user does, with nothing but the README: a fresh application in a temporary folder,
 * made of the README's quick start (its package.json, tsconfig.json and TypeScript files, word for
 * word), depending on the library as `npm pack` packs it; compiled with the README's `npm run
 * build`, started with `npm start` on an empty database (so the migrations run), and printing what
 * the README says it prints. Offline: the tarball is unpacked as npm would install it, and the other
 * dependencies are the workspace's own installed packages (linked), since a registry may not be
 * reachable.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgflowMigrations } from '../../migrations/index.ts';
import { projectRoot } from '../../tools/local-postgres.ts';
import { readmeBlocks } from '../readme/readme-blocks.ts';
import { createTestDatabase } from '../support/test-database.ts';
import { npm, type StagedPackage, stagePackage } from './support/staged-package.ts';

const run = promisify(execFile);
const root = projectRoot();
const QUICK_START = 'Quick start (five minutes)';

let staged: StagedPackage;
afterAll(() => staged?.remove());

/** The quick start's code blocks: its package.json and tsconfig.json, its files by name, its output. */
function quickStart() {
  const blocks = readmeBlocks().filter((block) => block.section === QUICK_START);
  const json = blocks.filter((block) => block.language === 'json').map((block) => JSON.parse(block.code));
  const packageJson = json.find((value) => 'dependencies' in value);
  const tsconfig = json.find((value) => 'compilerOptions' in value);
  // Each TypeScript block is a file of test/readme/fixtures, word for word (test/readme checks it): its name.
  const fixtures = join(root, 'test', 'readme', 'fixtures');
  const fixtureNames = readdirSync(fixtures);
  const files = blocks
    .filter((block) => block.language === 'ts')
    .map((block) => {
      const name = fixtureNames.find((file) => readFileSync(join(fixtures, file), 'utf8') === block.code);
      if (name === undefined) throw new Error(`The quick start block at line ${block.line} is no fixture file.`);
      return { name, code: block.code };
    });
  const output =
    blocks
      .find((block) => block.language === 'text')
      ?.code.trim()
      .split('\n') ?? [];
  return { packageJson, tsconfig, files, output };
}

it('follows the README quick start in a new application: it builds, migrates an empty database and completes a run', async () => {
  const started = Date.now();
  const { packageJson, tsconfig, files, output } = quickStart();
  expect(packageJson).toMatchObject({
    type: 'module',
    scripts: { build: expect.any(String), start: expect.any(String) },
  });
  expect(files.map((file) => file.name).sort()).toEqual([
    'app.module.ts',
    'main.ts',
    'signup.service.ts',
    'welcome.flow.ts',
  ]);
  expect(output.length).toBeGreaterThan(0);

  staged = await stagePackage();
  const { tarball } = await staged.pack();

  // The application: the README's files, depending on the tarball.
  const app = join(staged.root, 'my-app');
  await mkdir(join(app, 'src'), { recursive: true });
  const dependencies = { ...packageJson.dependencies, 'nestjs-pgflow': `file:${tarball}` };
  await writeFile(join(app, 'package.json'), JSON.stringify({ ...packageJson, dependencies }, null, 2));
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  for (const file of files) await writeFile(join(app, 'src', file.name), file.code);

  // Installed: the tarball unpacked where npm puts it, every other package linked from the workspace.
  const modules = join(app, 'node_modules');
  await mkdir(join(modules, 'nestjs-pgflow'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'nestjs-pgflow'), '--strip-components=1']);
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry === 'nestjs-pgflow' || entry.startsWith('.')) continue;
    await symlink(join(root, 'node_modules', entry), join(modules, entry), 'dir');
  }
  await mkdir(join(modules, '.bin'));
  await symlink(join('..', 'typescript', 'bin', 'tsc'), join(modules, '.bin', 'tsc'));

  await npm(['run', 'build'], app);
  const database = await createTestDatabase({ migrated: false });
  const { stdout, stderr } = await npm(['start'], app, { DATABASE_URL: database.url });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Nest colours its log lines
  const printed = `${stdout}${stderr}`.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  console.log(`new app: packed, built, migrated and ran in ${Date.now() - started} ms`);

  for (const line of output) {
    // `[Nest] ... LOG [Context] message`: Nest's prefix (pid, time) varies; the README's database name is an
    // example, and so are its count of migrations and the latest one's name (they grow with each release).
    const nest = /^\[Nest\] \.\.\. (\w+) (.*)$/.exec(line);
    const expected = nest
      ? new RegExp(
          `^\\[Nest\\] \\d+ .* ${nest[1]} ${escapeRegExp(nest[2] as string)
            .replace("'my_app'", `'${database.name}'`)
            .replace(/the \d+ migrations/, `the ${pgflowMigrations.length} migrations`)
            .replace(/latest: \w+/, `latest: ${new (pgflowMigrations.at(-1) as new () => { name: string })().name}`)}$`,
        )
      : new RegExp(`^${escapeRegExp(line)}$`);
    expect(printed).toContainEqual(expect.stringMatching(expected));
  }
  expect(await database.query('select flow_slug, status from pgflow.runs')).toEqual([
    { flow_slug: 'welcome_user', status: 'completed' },
  ]);
}, 300_000);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
