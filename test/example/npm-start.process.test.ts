/**
 * `npm start`'s program (the compiled apps/example/src/main.js), run as a user runs it: against a
 * test database through DATABASE_URL (the demo's progress and final line, the API while it serves,
 * a clean exit on SIGINT and on SIGTERM, a second start), and on the embedded PostgreSQL in a data
 * folder of its own (a start after a killed one, a second start while one runs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { RunSnapshot } from 'nestjs-pgflow';
import { projectRoot } from '../../tools/local-postgres.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { buildExample, exampleMain } from './support/example-build.ts';
import { type ExampleProcess, useExampleProcesses } from './support/example-process.ts';

const db = useTestDatabase();
const startExample = useExampleProcesses(exampleMain);

beforeAll(() => buildExample(), 300_000);

/** A TCP connection to `url`'s server that sends nothing, as a browser's preconnected socket. */
async function openSilentSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Starts the program, waits for the demo to complete, and returns the API's URL and the run's id. */
async function startAndWaitForDemo(): Promise<{ example: ExampleProcess; api: string; runId: string }> {
  const example = startExample({ DATABASE_URL: db.url, PORT: '0' });
  const [, api] = await example.line(/API at (http:\/\/localhost:\d+), PostgreSQL from DATABASE_URL/);
  const [, runId] = await example.line(/^run (\S+) completed in \d+ ms$/);
  return { example, api: api as string, runId: runId as string };
}

describe('npm start (main.js) with DATABASE_URL', () => {
  it('prints the demo run as it progresses, serves the API, and exits with 0 on SIGINT', async () => {
    const { example, api, runId } = await startAndWaitForDemo();

    const progress = example.lines.filter((line) => /^\+\s*\d+ ms {2}/.test(line));
    const events = progress.map((line) => line.replace(/^\+\s*\d+ ms {2}/, ''));
    expect(events).toEqual(
      expect.arrayContaining([
        `run ${runId} of analyze_website started`,
        'step website started',
        'step keywords started',
        expect.stringMatching(
          /^step summary attempt 1 failed: SummarizerBusyError: summarizer busy.*; retry in \d+ ms$/,
        ),
        expect.stringMatching(/^step summary completed: /),
        expect.stringMatching(/^step link completed: 6 items: /),
        expect.stringMatching(/^step save completed: /),
      ]),
    );
    // Timings grow with the events, and the retry waits out its delay (1 s).
    const offsets = progress.map((line) => Number(/^\+\s*(\d+)/.exec(line)?.[1]));
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect(example.output).toContain('  retries   summary: 2 attempts');
    expect(example.output).toContain('  links     3 ok, 1 broken (https://example.com/docs/retries), 2 external');
    // The final line of the demo comes after the summary.
    const last = example.lines.findIndex((line) => line.startsWith(`run ${runId} completed in`));
    expect(example.lines.findIndex((line) => line.startsWith('  keywords'))).toBeLessThan(last);

    const run = (await (await fetch(`${api}/runs/${runId}`)).json()) as RunSnapshot;
    expect(run).toMatchObject({ runId, status: 'completed', flowSlug: 'analyze_website' });
    const flows = await fetch(`${api}/flows`);
    expect(flows.status).toBe(200);

    // Exit code 0: the shutdown finished by itself, before the example's own deadline (code 1),
    // although a socket that sent nothing is open (what a browser's preconnection is).
    const silent = await openSilentSocket(api);
    const exit = await example.stop('SIGINT');
    silent.destroy();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(example.output).toContain('SIGINT received: shutting down');
    expect(example.lines[example.lines.length - 1]).toBe('Stopped.');
    // Expected situations (the simulated rate limit) print no stack trace.
    expect(example.lines.filter((line) => /^\s+at .+:\d+:\d+\)?$/.test(line))).toEqual([]);
  }, 240_000);

  it('starts again on the same database (its flows are already there) and exits with 0 on SIGTERM', async () => {
    const first = await startAndWaitForDemo();
    expect((await first.example.stop('SIGINT')).code).toBe(0);

    const second = await startAndWaitForDemo();
    expect(second.runId).not.toBe(first.runId);
    const exit = await second.example.stop('SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 360_000);

  it('says what is wrong, without a stack trace, when it cannot reach the database', async () => {
    const url = new URL(db.url);
    url.pathname = '/pgflow_no_such_database';
    const example = startExample({ DATABASE_URL: url.toString(), PORT: '0' });

    expect(await example.exit()).toMatchObject({ code: 1 });
    expect(example.lines).toContainEqual(
      expect.stringMatching(
        /^Could not use PostgreSQL at postgres:\/\/.*pgflow_no_such_database: .*Check DATABASE_URL/,
      ),
    );
    expect(example.lines.filter((line) => /^\s+at .+:\d+:\d+\)?$/.test(line))).toEqual([]);
  }, 120_000);
});

describe('npm start (main.js) with the embedded PostgreSQL', () => {
  // A folder of its own under .pgdata/, so that the test never touches `npm start`'s own data.
  const folder = `example-test-${process.pid}`;
  const dataDir = join(projectRoot(), '.pgdata', folder);
  const embedded = { DATABASE_URL: '', EXAMPLE_PGDATA: folder, PORT: '0' };

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The pid of the server running on the folder, if one is. */
  function serverPid(): number | undefined {
    const pidFile = join(dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
    return alive(pid) ? pid : undefined;
  }

  afterAll(async () => {
    const pid = serverPid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGINT');
      await waitFor(() => serverPid() === undefined, { description: 'the leftover server to stop' });
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts after a start that was killed (its server left running), and stops its server on SIGINT', async () => {
    const killed = startExample(embedded);
    await killed.line(/API at http:\/\/localhost:\d+, embedded PostgreSQL on 127\.0\.0\.1:\d+ \(data in /, 180_000);
    await killed.kill();
    const leftover = serverPid() as number;
    expect(leftover).toBeDefined();

    const next = startExample(embedded);
    await next.line(/^run \S+ completed in \d+ ms$/, 120_000);
    expect(alive(leftover)).toBe(false);
    expect(serverPid()).toBeDefined();
    const exit = await next.stop('SIGINT');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(serverPid()).toBeUndefined();
  }, 400_000);

  it('refuses to start on a folder whose server another running start owns, which goes on serving', async () => {
    const owner = startExample(embedded);
    const [, api] = await owner.line(/API at (http:\/\/localhost:\d+), embedded PostgreSQL/, 180_000);
    await owner.line(/^run \S+ completed in \d+ ms$/);

    const intruder = startExample(embedded);
    expect(await intruder.exit(90_000)).toMatchObject({ code: 1 });
    expect(intruder.output).toMatch(/already running on this folder for process \d+ .*: stop that process first\./);

    expect((await fetch(`${api}/flows`)).status).toBe(200);
    expect((await owner.stop('SIGINT')).code).toBe(0);
  }, 400_000);
});
