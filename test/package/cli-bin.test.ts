/**
 * `npx nestjs-pgflow` from the packed package: the tarball's package.json names the CLI as its bin,
 * the file is in the tarball and starts with a node shebang, and, installed the way npm installs it
 * (unpacked into node_modules, bin linked into node_modules/.bin, the other packages linked from the
 * workspace since a registry may not be reachable), `npx nestjs-pgflow` prints its help and lists the
 * flows of a database.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../tools/local-postgres.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { npm, type StagedPackage, stagePackage } from './support/staged-package.ts';

const run = promisify(execFile);
const root = projectRoot();
const db = useTestDatabase();
let staged: StagedPackage;
afterAll(() => staged?.remove());

it('installs a working nestjs-pgflow command from the tarball', async () => {
  staged = await stagePackage();
  const { tarball, files } = await staged.pack();
  const app = join(staged.root, 'ops');
  const modules = join(app, 'node_modules');
  const installed = join(modules, 'nestjs-pgflow');
  await mkdir(installed, { recursive: true });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'ops', private: true, dependencies: { 'nestjs-pgflow': `file:${tarball}` } }),
  );
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry === 'nestjs-pgflow' || entry.startsWith('.')) continue;
    await symlink(join(root, 'node_modules', entry), join(modules, entry), 'dir');
  }

  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const binPath = (manifest.bin as Record<string, string>)['nestjs-pgflow'] as string;
  expect(files.map((file) => file.path)).toContain(binPath.replace(/^\.\//, ''));
  const bin = join(installed, binPath);
  expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  // What npm does on install: the bin, executable, linked into node_modules/.bin.
  await chmod(bin, 0o755);
  await mkdir(join(modules, '.bin'));
  await symlink(join('..', 'nestjs-pgflow', binPath), join(modules, '.bin', 'nestjs-pgflow'));

  const help = await npm(['exec', '--offline', '--', 'nestjs-pgflow', '--help'], app);
  expect(help.stdout).toContain('Usage: nestjs-pgflow <command>');
  await db.query("select pgflow.create_flow('packed_cli_flow')");
  const flows = await npm(['exec', '--offline', '--', 'nestjs-pgflow', 'flows', '--json'], app, {
    DATABASE_URL: db.url,
  });
  expect(JSON.parse(flows.stdout)).toEqual([expect.objectContaining({ flowSlug: 'packed_cli_flow', paused: false })]);
}, 120_000);
