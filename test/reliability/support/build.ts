/**
 * The child-process programs (test/processes) run compiled, as a user's application would, and
 * import the library as 'nestjs-pgflow'. They are built once per `npm test` run into a folder of
 * their own (.tmp/reliability/build-<run>/), with the library compiled from its sources into the
 * same folder and a `node_modules/nestjs-pgflow` there that points at it: other engineers' builds
 * rewriting libs/pgflow/dist or .build/ while a child process starts cannot break it, and these
 * tests never rewrite them either. Whichever test file asks first builds; the others wait.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { TEMPLATE_ENV } from '../../support/harness-contract.ts';
import { waitFor } from '../../support/wait-for.ts';

const run = promisify(execFile);

/** A build takes a few seconds; a lock older than this belongs to a test run that died. */
const STALE_LOCK_MS = 120_000;
/** Builds of earlier test runs are removed after this long. */
const OLD_BUILD_MS = 3_600_000;

function folder(): string {
  return join(projectRoot(), '.tmp', 'reliability');
}

function buildDir(): string {
  return join(folder(), `build-${process.env[TEMPLATE_ENV] ?? process.pid}`);
}

/** The compiled program of test/processes/<name>.ts. */
export function processScript(name: string): string {
  return join(buildDir(), 'test', 'processes', `${name}.js`);
}

/** Builds the programs and the library they import, unless this test run already did. */
export async function buildProcesses(): Promise<void> {
  const out = buildDir();
  const done = join(out, '.done');
  const lock = join(folder(), 'build.lock');
  await mkdir(folder(), { recursive: true });
  if (existsSync(done)) return;

  await waitFor(() => takeLock(lock), { timeoutMs: STALE_LOCK_MS, intervalMs: 100, description: 'the build lock' });
  try {
    if (existsSync(done)) return;
    await removeOldBuilds();
    await rm(out, { recursive: true, force: true });
    const tsc = join(projectRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', 'test/processes/tsconfig.json', '--outDir', out], {
        cwd: projectRoot(),
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`Building the test processes failed:\n${stdout}${stderr}`, { cause: error });
    }
    // 'nestjs-pgflow' (and its entry 'nestjs-pgflow/health'), resolved from the programs, is the library compiled next to them.
    const shim = join(out, 'node_modules', 'nestjs-pgflow');
    await mkdir(shim, { recursive: true });
    await writeFile(
      join(shim, 'package.json'),
      '{ "name": "nestjs-pgflow", "type": "module", "exports": { ".": "./index.js", "./health": "./health.js" } }\n',
    );
    await writeFile(join(shim, 'index.js'), "export * from '../../libs/pgflow/src/index.js';\n");
    await writeFile(join(shim, 'health.js'), "export * from '../../libs/pgflow/src/health/index.js';\n");
    await writeFile(done, `${new Date().toISOString()}\n`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function removeOldBuilds(): Promise<void> {
  for (const entry of await readdir(folder())) {
    if (!entry.startsWith('build-')) continue;
    const path = join(folder(), entry);
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > OLD_BUILD_MS) await rm(path, { recursive: true, force: true });
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
