/**
 * `nestjs-pgflow` commands against a real database, each run as a child process of the built CLI:
 * table output for people, --json for scripts, exit code 0 when done, 1 with the engine's reason
 * when refused, 2 with the usage line on bad usage (nothing changed then).
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { defineFlow, startRun } from '../engine/support/engine-driver.ts';
import { insertEndedRuns } from '../engine/support/old-runs.ts';
import { createTestDatabase, useTestDatabase } from '../support/test-database.ts';
import { type BuiltCli, buildCli, type CliResult } from './support/built-cli.ts';

const db = useTestDatabase();
let cli: BuiltCli;
const USAGE = /^Usage: nestjs-pgflow <command> \[arguments\] \[--json\]/m;

beforeAll(async () => {
  cli = await buildCli();
  await defineFlow(db, 'cli_orders', [{ slug: 'charge' }]);
  await defineFlow(db, 'cli_emails', [{ slug: 'send' }]);
}, 120_000);
afterAll(() => cli?.remove());

const nestjsPgflow = (...args: string[]) => cli.run(args, db.url);

function parsed(result: CliResult): unknown {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

async function runStatus(runId: string): Promise<string | undefined> {
  const [row] = await db.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [runId]);
  return row?.status;
}

describe('reading', () => {
  let completed: string[];
  let started: string;

  beforeAll(async () => {
    completed = await insertEndedRuns(db, {
      flowSlug: 'cli_orders',
      stepSlug: 'charge',
      status: 'completed',
      count: 3,
      endedDaysAgo: 1,
    });
    await insertEndedRuns(db, {
      flowSlug: 'cli_orders',
      stepSlug: 'charge',
      status: 'failed',
      count: 1,
      endedDaysAgo: 1,
    });
    started = (await startRun(db, 'cli_emails', { to: 'a@example.com' })).run_id;
  });

  it('flows: each flow, running or paused, with its runs counted by status', async () => {
    const result = await nestjsPgflow('flows');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^FLOW +ALIAS +STATE +STARTED +COMPLETED +FAILED +CANCELLED$/);
    expect(result.stdout).toMatch(/^cli_orders +- +running +0 +3 +1 +0$/m);
    expect(parsed(await nestjsPgflow('flows', '--json'))).toEqual([
      {
        flowSlug: 'cli_emails',
        alias: null,
        paused: false,
        pausedAt: null,
        runs: { started: 1, completed: 0, failed: 0, cancelled: 0 },
      },
      {
        flowSlug: 'cli_orders',
        alias: null,
        paused: false,
        pausedAt: null,
        runs: { started: 0, completed: 3, failed: 1, cancelled: 0 },
      },
    ]);
  });

  it('runs: the newest first, filtered by flow and status, at most --limit', async () => {
    const all = parsed(await nestjsPgflow('runs', '--json')) as Array<{ runId: string }>;
    expect(all).toHaveLength(5);
    expect(all[0]?.runId).toBe(started);
    const some = parsed(
      await nestjsPgflow('runs', '--flow', 'cli_orders', '--status', 'completed', '--limit', '2', '--json'),
    );
    expect(some).toEqual([
      expect.objectContaining({ flowSlug: 'cli_orders', status: 'completed', endedAt: expect.any(String) }),
      expect.objectContaining({ flowSlug: 'cli_orders', status: 'completed' }),
    ]);
    const table = await nestjsPgflow('runs', '--flow', 'cli_emails');
    expect(table.stdout).toMatch(
      new RegExp(`^RUN +FLOW +STATUS +STARTED +ENDED\\n${started} +cli_emails +started +\\S+ +-$`, 'm'),
    );
  });

  it('run: one run with its steps and tasks', async () => {
    const id = completed[0] as string;
    expect(parsed(await nestjsPgflow('run', id, '--json'))).toMatchObject({
      runId: id,
      flowSlug: 'cli_orders',
      status: 'completed',
      steps: [
        { stepSlug: 'charge', status: 'completed', tasks: [{ taskIndex: 0, status: 'completed', attemptsCount: 1 }] },
      ],
    });
    const table = await nestjsPgflow('run', id);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^STEP +STATUS +TASKS +ATTEMPTS +ERROR\ncharge +completed +1 +1 +-$/m);
  });

  it('run of an id no run has: exit 1 with the reason', async () => {
    const result = await nestjsPgflow('run', '00000000-0000-4000-8000-000000000000');
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('Run 00000000-0000-4000-8000-000000000000 does not exist.');
  });
});

describe('acting', () => {
  it('cancel: cancels a run in progress; a second cancel is refused with the reason (exit 1)', async () => {
    const run = await startRun(db, 'cli_orders', { order: 1 });
    const done = await nestjsPgflow('cancel', run.run_id, '--reason', 'customer asked');
    expect(done).toMatchObject({ code: 0, stdout: `Cancelled run ${run.run_id}.\n` });
    expect(await runStatus(run.run_id)).toBe('cancelled');

    const again = await nestjsPgflow('cancel', run.run_id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `Run ${run.run_id} is cancelled: only a run in progress (started) can be cancelled.`,
    );
    const asJson = await nestjsPgflow('cancel', run.run_id, '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toEqual({ error: expect.stringContaining('is cancelled'), exitCode: 1 });
  });

  it('retry: starts a cancelled run again; retrying a run in progress is refused with the engine reason', async () => {
    const run = await startRun(db, 'cli_orders', { order: 2 });
    expect((await nestjsPgflow('cancel', run.run_id)).code).toBe(0);
    expect(parsed(await nestjsPgflow('retry', run.run_id, '--json'))).toEqual({
      runId: run.run_id,
      flowSlug: 'cli_orders',
      status: 'started',
    });
    expect(await runStatus(run.run_id)).toBe('started');

    const refused = await nestjsPgflow('retry', run.run_id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Run ${run.run_id} is started: only a failed or cancelled run can be retried`);
  });

  it('pause and resume: set and clear the flow pause; an unknown flow is refused', async () => {
    const paused = await nestjsPgflow('pause', 'cli_emails');
    expect(paused).toMatchObject({ code: 0, stdout: 'Flow cli_emails is paused: workers take none of its tasks.\n' });
    const [flow] = await db.query<{ paused_at: Date | null }>(
      "select paused_at from pgflow.flows where flow_slug = 'cli_emails'",
    );
    expect(flow?.paused_at).toBeInstanceOf(Date);
    expect(parsed(await nestjsPgflow('resume', 'cli_emails', '--json'))).toEqual({
      flowSlug: 'cli_emails',
      paused: false,
      changed: true,
    });
    const unknown = await nestjsPgflow('pause', 'cli_nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Flow 'cli_nope' does not exist, so it cannot be paused.");
  });

  it('prune --older-than: deletes the runs that ended before, and only those', async () => {
    await defineFlow(db, 'cli_prune', [{ slug: 'only' }]);
    const old = await insertEndedRuns(db, {
      flowSlug: 'cli_prune',
      stepSlug: 'only',
      status: 'failed',
      count: 2,
      endedDaysAgo: 40,
    });
    const young = await insertEndedRuns(db, {
      flowSlug: 'cli_prune',
      stepSlug: 'only',
      status: 'completed',
      count: 1,
      endedDaysAgo: 10,
    });
    const result = await nestjsPgflow('prune', '--older-than', '30');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Pruned the runs that ended more than 30 day(s) ago');
    const left = await db.query<{ run_id: string }>("select run_id from pgflow.runs where flow_slug = 'cli_prune'");
    expect(left.map((row) => row.run_id)).toEqual(young);
    expect(old).toHaveLength(2);
  });

  it('migrate: applies every migration to an empty database, then finds it up to date', async () => {
    const empty = await createTestDatabase({ migrated: false });
    const first = await cli.run(['migrate', '--json'], empty.url);
    const names = pgflowMigrations.map((Migration) => new Migration().name as string);
    expect(parsed(first)).toEqual({ applied: names, total: names.length });
    const again = await cli.run(['migrate'], empty.url);
    expect(again).toMatchObject({ code: 0, stdout: `Database is up to date (${names.length} migrations).\n` });
  }, 120_000);
});

describe('bad usage: exit 2 with the usage line, nothing changed', () => {
  it.each<[string, string[], RegExp]>([
    ['no command', [], /No command given\./],
    ['an unknown command', ['list'], /Unknown command 'list'\. The commands: migrate, flows, runs/],
    ['an unknown option', ['runs', '--colour'], /Unknown option '--colour'/],
    ['an option of another command', ['flows', '--limit', '3'], /flows takes no --limit option\./],
    ['a missing run id', ['cancel'], /cancel takes <run-id>; got none\./],
    ['a run id that is no UUID', ['run', '42'], /'42' is not a run id/],
    ['an unknown status', ['runs', '--status', 'done'], /--status 'done' is not a run status: pass started, completed/],
    ['a limit out of range', ['runs', '--limit', '0'], /--limit '0' is not a number of runs from 1 to 1000\./],
    ['prune without --older-than', ['prune'], /prune needs --older-than <days>/],
    ['a negative age', ['prune', '--older-than=-5'], /a number of days from 0 \(got '-5'\)/],
    ['an age that is no number', ['prune', '--older-than', 'soon'], /a number of days from 0 \(got 'soon'\)/],
  ])('%s', async (_label, args, message) => {
    const result = await nestjsPgflow(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(USAGE);
  });

  it('DATABASE_URL unset', async () => {
    const result = await cli.run(['flows'], undefined);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DATABASE_URL is not set/);
    expect(result.stderr).toMatch(USAGE);
  });

  it('--help prints the commands and exits 0', async () => {
    const result = await cli.run(['--help'], undefined);
    expect(result.code).toBe(0);
    for (const command of ['migrate', 'flows', 'runs', 'run <run-id>', 'cancel', 'retry', 'pause', 'resume', 'prune']) {
      expect(result.stdout).toContain(`  ${command}`);
    }
  });
});

describe('failures', () => {
  it('a database that does not answer: exit 1, saying what failed', async () => {
    const result = await cli.run(['flows'], 'postgres://postgres@127.0.0.1:1/nowhere');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^nestjs-pgflow flows failed: connect ECONNREFUSED 127\.0\.0\.1:1/);
  });
});

describe('concurrency limits', () => {
  it('runs and run show a run waiting for a slot of its key', async () => {
    await defineFlow(db, 'cli_tenants', [{ slug: 'export' }]);
    await db.query(`update pgflow.flows set opt_concurrency_per_key = 1 where flow_slug = 'cli_tenants'`);
    const start = async () => {
      const [row] = await db.query<{ run_id: string }>(
        `select run_id from pgflow.start_flow('cli_tenants', '{}'::jsonb, concurrency_key => 'acme')`,
      );
      return row?.run_id as string;
    };
    const admitted = await start();
    const waiting = await start();

    const runs = parsed(await nestjsPgflow('runs', '--flow', 'cli_tenants', '--json'));
    expect(runs).toEqual([
      expect.objectContaining({ runId: waiting, status: 'started', concurrencyKey: 'acme', waitingForSlot: true }),
      expect.objectContaining({ runId: admitted, status: 'started', concurrencyKey: 'acme', waitingForSlot: false }),
    ]);
    const table = await nestjsPgflow('runs', '--flow', 'cli_tenants');
    expect(table.stdout).toMatch(
      new RegExp(`^${waiting} +cli_tenants +started \\(waiting for a slot, key acme\\) `, 'm'),
    );
    expect(table.stdout).toMatch(new RegExp(`^${admitted} +cli_tenants +started +\\S+ +-$`, 'm'));
    expect(parsed(await nestjsPgflow('run', waiting, '--json'))).toMatchObject({ waitingForSlot: true });
    expect((await nestjsPgflow('run', waiting)).stdout).toContain('started (waiting for a slot, key acme)');
  });
});
