/**
 * The compiled example, as `npm start` runs it: the library built to its dist (by the reliability
 * tests' build helper, which builds it once per test run under a lock, so that no test's child
 * process loads a half-written dist), and the example compiled to .build/apps/example with
 * apps/example/tsconfig.build.json (only the example and what it imports, so that work in progress
 * elsewhere cannot break this test).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { buildProcesses } from '../../reliability/support/build.ts';

const run = promisify(execFile);

/** The compiled entry point of `npm start`. */
export function exampleMain(): string {
  return join(projectRoot(), '.build', 'apps', 'example', 'src', 'main.js');
}

export async function buildExample(): Promise<void> {
  await buildProcesses();
  const root = projectRoot();
  const tsc = ['node_modules/typescript/bin/tsc', '-p', 'apps/example/tsconfig.build.json'];
  try {
    await run(process.execPath, tsc, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`Compiling the example failed (tsc ${tsc.slice(1).join(' ')}):\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}
