/**
 * Runs fixture test files in a nested Jest on the same PostgreSQL server, to test the harness itself.
 */
import { spawn } from 'node:child_process';
import { SERVER_URL_ENV } from './harness-contract.ts';

export interface NestedJestResult {
  readonly code: number | null;
  readonly output: string;
}

export function runNestedJest(testMatch: string, extraArgs: string[] = []): Promise<NestedJestResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        'node_modules/jest/bin/jest.js',
        '--testMatch',
        testMatch,
        '--testPathIgnorePatterns',
        '/node_modules/',
        ...extraArgs,
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: process.env[SERVER_URL_ENV],
          // The nested run's totals must not overwrite the outer run's summary.
          PGFLOW_TEST_SUMMARY: '',
          NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
