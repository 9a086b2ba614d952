/**
 * The compiled example, as `npm start` runs it: the library built to its dist (as `npm run build`
 * does), and the example compiled to .build/apps/example with apps/example/tsconfig.build.json (only
 * the example and what it imports, so that work in progress elsewhere cannot break this test). Only
 * this test file loads the dist (Jest maps 'nestjs-pgflow' to the sources, and the reliability
 * tests' child processes import a build of their own), so rewriting it here disturbs no other test.
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

/**
 * Builds what `npm start` runs: the library's dist (what the compiled example imports as
 * 'nestjs-pgflow'; a clean clone has none), then the example.
 */
export async function buildExample(): Promise<void> {
  await buildProcesses();
  const root = projectRoot();
  for (const project of ['libs/pgflow/tsconfig.lib.json', 'apps/example/tsconfig.build.json']) {
    const tsc = ['node_modules/typescript/bin/tsc', '-p', project];
    try {
      await run(process.execPath, tsc, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`Compiling for the example failed (tsc ${tsc.slice(1).join(' ')}):\n${stdout}${stderr}`, {
        cause: error,
      });
    }
  }
}
