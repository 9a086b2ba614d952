/**
 * The child-process programs (test/processes) run compiled, as a user's application would: the
 * library is built to its dist (`npm run build`), and the programs into .build/test/processes with
 * tsconfig.run.json's settings (test/processes/tsconfig.json narrows it to that folder, so that work
 * in progress elsewhere under apps/ or bench/ cannot break these tests). They import the library as
 * 'nestjs-pgflow'. The build runs once per `npm test` run, whichever test file asks first; the
 * others wait for it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { TEMPLATE_ENV } from '../../support/harness-contract.ts';
import { waitFor } from '../../support/wait-for.ts';

const run = promisify(execFile);

/** A build takes ~3 s; a lock older than this belongs to a test run that died. */
const STALE_LOCK_MS = 120_000;

/** The compiled program of test/processes/<name>.ts. */
export function processScript(name: string): string {
  return join(projectRoot(), '.build', 'test', 'processes', `${name}.js`);
}

/** Builds the library and the programs unless this test run already did. */
export async function buildProcesses(): Promise<void> {
  const root = projectRoot();
  const folder = join(root, '.tmp', 'reliability');
  const done = join(folder, `build-${process.env[TEMPLATE_ENV] ?? process.pid}.done`);
  const lock = join(folder, 'build.lock');
  await mkdir(folder, { recursive: true });
  if (existsSync(done)) return;

  await waitFor(() => takeLock(lock), { timeoutMs: STALE_LOCK_MS, intervalMs: 100, description: 'the build lock' });
  try {
    if (existsSync(done)) return;
    await step(root, 'npm', ['run', '--silent', 'build']);
    await step(root, process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/processes/tsconfig.json']);
    await writeFile(done, `${new Date().toISOString()}\n`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function step(cwd: string, command: string, args: string[]): Promise<void> {
  try {
    await run(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`Building the test processes failed (${command} ${args.join(' ')}):\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch {
    const age = await stat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
    return false;
  }
}
