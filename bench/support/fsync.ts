/**
 * The machine's flush rate, the ceiling of one-commit-per-task designs: 8 kB written at the start
 * of a file, then fdatasync(), in a loop for `durationMs` (what pg_test_fsync's "fdatasync, one 8kB
 * write" measures). The file lives under the project's git-ignored .tmp/ folder, on the disk the
 * checkout is on (here the same as the local PostgreSQL's data directory).
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/local-postgres.ts';

export function measureFsyncRate(durationMs = 1_000): number {
  const folder = join(projectRoot(), '.tmp');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `bench-fsync-${process.pid}`);
  const block = Buffer.alloc(8192, 7);
  const fd = openSync(file, 'w');
  try {
    let flushes = 0;
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      writeSync(fd, block, 0, block.length, 0);
      fdatasyncSync(fd);
      flushes += 1;
    }
    return flushes / ((performance.now() - started) / 1000);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}
