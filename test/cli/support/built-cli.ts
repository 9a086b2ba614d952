/**
 * The CLI as users run it: the library compiled from its sources (as `npm run build` compiles it
 * into libs/pgflow/dist) into a folder of this test file's own under .tmp/cli/, so that no other
 * build rewriting libs/pgflow/dist can break it, and started as a child process with node.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../tools/local-postgres.ts';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface BuiltCli {
  /** Runs `nestjs-pgflow ...args` with DATABASE_URL = `databaseUrl` (unset when undefined). */
  run(args: readonly string[], databaseUrl: string | undefined): Promise<CliResult>;
  remove(): Promise<void>;
}

/** Compiles the library (and so its CLI) into a new folder under .tmp/cli. */
export async function buildCli(): Promise<BuiltCli> {
  const out = join(projectRoot(), '.tmp', 'cli', `build-${process.pid}-${Date.now()}`);
  await mkdir(out, { recursive: true });
  const tsc = join(projectRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', 'libs/pgflow/tsconfig.lib.json', '--outDir', out], {
      cwd: projectRoot(),
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`Building the CLI failed:\n${stdout}${stderr}`, { cause: error });
  }
  const main = join(out, 'libs', 'pgflow', 'src', 'cli', 'main.js');
  return {
    run: (args, databaseUrl) =>
      new Promise((resolve, reject) => {
        const env = { ...process.env, DATABASE_URL: databaseUrl };
        if (databaseUrl === undefined) delete env.DATABASE_URL;
        const child = spawn(process.execPath, [main, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      }),
    remove: () => rm(out, { recursive: true, force: true }),
  };
}
