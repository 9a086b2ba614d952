/**
 * The optional peer dependencies stay optional: in an application that has neither @nestjs/terminus
 * nor @opentelemetry/api installed, the packed library imports, boots a PgflowModule and starts and
 * completes a run (telemetry finds no API and records nothing); only its `nestjs-pgflow/health` entry
 * needs terminus, and says so by name.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../tools/local-postgres.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { type StagedPackage, stagePackage } from './support/staged-package.ts';

const run = promisify(execFile);
const root = projectRoot();
const db = useTestDatabase();
/** What the application must not have. */
const ABSENT = new Set(['@nestjs/terminus', '@opentelemetry']);

let staged: StagedPackage;
let app: string | undefined;
afterAll(async () => {
  await staged?.remove();
  if (app !== undefined) await rm(app, { recursive: true, force: true });
});

/** Links every package of the workspace into `modules`, except the absent ones. */
async function linkWorkspacePackages(modules: string): Promise<void> {
  const source = join(root, 'node_modules');
  for (const entry of await readdir(source)) {
    if (entry === 'nestjs-pgflow' || entry.startsWith('.') || ABSENT.has(entry)) continue;
    if (!entry.startsWith('@')) {
      await symlink(join(source, entry), join(modules, entry), 'dir');
      continue;
    }
    await mkdir(join(modules, entry));
    for (const scoped of await readdir(join(source, entry))) {
      if (ABSENT.has(`${entry}/${scoped}`)) continue;
      await symlink(join(source, entry, scoped), join(modules, entry, scoped), 'dir');
    }
  }
}

const BOOT_AND_RUN = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Flow, FlowClient, PgflowModule, Step } from 'nestjs-pgflow';

class Hello {
  greet(input) {
    return 'hello ' + input.name;
  }
}
Flow({ slug: 'optional_peers_hello' })(Hello);
Step()(Hello.prototype, 'greet', Object.getOwnPropertyDescriptor(Hello.prototype, 'greet'));

class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, autoLoadEntities: true, retryAttempts: 0 }),
    PgflowModule.forRoot({ worker: { pollIntervalMs: 10, heartbeatIntervalMs: 250 } }),
  ],
  providers: [Hello],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const client = app.get(FlowClient);
const handle = await client.start('optional_peers_hello', { name: 'world' });
const done = await handle.wait({ timeoutMs: 20000 });
await app.close();
const health = await import('nestjs-pgflow/health').then(() => 'loaded', (error) => error.code + ' ' + error.message);
console.log(JSON.stringify({ output: done.output, health }));
`;

it('imports, boots and completes a run without @nestjs/terminus and @opentelemetry/api; nestjs-pgflow/health names terminus', async () => {
  staged = await stagePackage();
  const { tarball } = await staged.pack();
  // Not under the staged package's folder: its node_modules (the workspace's) would resolve the absent ones.
  app = await mkdtemp(join(tmpdir(), 'nestjs-pgflow-without-optional-peers-'));
  const modules = join(app, 'node_modules');
  await mkdir(join(modules, 'nestjs-pgflow'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'nestjs-pgflow'), '--strip-components=1']);
  await linkWorkspacePackages(modules);
  await writeFile(join(app, 'package.json'), '{ "name": "app", "type": "module", "private": true }\n');
  await writeFile(join(app, 'main.js'), BOOT_AND_RUN);

  const { stdout } = await run(process.execPath, ['main.js'], {
    cwd: app,
    env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url },
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  expect(result.output).toEqual({ greet: 'hello world' });
  expect(result.health).toMatch(/^ERR_MODULE_NOT_FOUND .*'@nestjs\/terminus'/);
}, 120_000);
