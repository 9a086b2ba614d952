/**
 * The CLI's commands. Each one checks its arguments (a UsageError for a bad one), calls the
 * engine's functions (the statements of engine.sql.ts), and returns what to print: a text for
 * people and a value for `--json`. What the engine refuses becomes a RefusedError with its reason.
 */
import type pg from 'pg';
import { isWaitingForSlot } from '../client/run-rows.ts';
import { sql } from '../db/engine.sql.ts';
import { type Cell, table } from './cli-output.ts';
import { RefusedError, UsageError } from './cli-usage.ts';

/** What a command prints: `text` for people, `json` with --json. */
export interface CommandOutput {
  readonly text: string;
  readonly json: unknown;
}

/** The parsed command line of one command. */
export interface CommandInput {
  /** The arguments after the command's name. */
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  /** A connected client on DATABASE_URL, opened on first use. */
  readonly client: () => Promise<pg.Client>;
}

export interface CommandSpec {
  /** `<run-id>`-like names of the positional arguments, all required. */
  readonly positionals: readonly string[];
  /** The options it takes (besides --json and --help). */
  readonly options: readonly string[];
  readonly run: (input: CommandInput) => Promise<CommandOutput>;
}

const RUN_STATUSES = ['started', 'completed', 'failed', 'cancelled'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECONDS_PER_DAY = 86_400;

/** Runs one engine statement; an error the engine raised (SQLSTATE class PF) becomes a RefusedError. */
async function engine<Row extends pg.QueryResultRow>(
  input: CommandInput,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const client = await input.client();
  try {
    return (await client.query<Row>(text, values)).rows;
  } catch (error) {
    const { code, hint } = error as { code?: string; hint?: string };
    if (typeof code === 'string' && code.startsWith('PF')) {
      throw new RefusedError(`${(error as Error).message}${hint ? ` ${hint}` : ''}`, { cause: error });
    }
    throw error;
  }
}

function runId(value: string | undefined): string {
  if (value === undefined || !UUID.test(value)) {
    throw new UsageError(`'${value}' is not a run id: pass the run's UUID, e.g. 3f2a9c1e-7b4d-4c2a-9e1f-0a1b2c3d4e5f.`);
  }
  return value.toLowerCase();
}

/** A run's status for the tables: a run held back by its key's concurrency limit says so. */
function statusText(run: { status: string; waitingForSlot: boolean; concurrencyKey: string | null }): string {
  return run.waitingForSlot ? `${run.status} (waiting for a slot, key ${run.concurrencyKey})` : run.status;
}

function option(input: CommandInput, name: string): string | undefined {
  const value = input.options[name];
  return typeof value === 'string' ? value : undefined;
}

const flows: CommandSpec = {
  positionals: [],
  options: [],
  run: async (input) => {
    const rows = await engine<{
      flow_slug: string;
      alias: string | null;
      paused_at: Date | null;
      started: number;
      completed: number;
      failed: number;
      cancelled: number;
    }>(input, sql.flowsOverview, []);
    const value = rows.map((row) => ({
      flowSlug: row.flow_slug,
      alias: row.alias,
      paused: row.paused_at !== null,
      pausedAt: row.paused_at,
      runs: { started: row.started, completed: row.completed, failed: row.failed, cancelled: row.cancelled },
    }));
    const text =
      rows.length === 0
        ? 'No flows: none is compiled in this database yet.'
        : table(
            ['FLOW', 'ALIAS', 'STATE', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELLED'],
            rows.map((row) => [
              row.flow_slug,
              row.alias,
              row.paused_at === null ? 'running' : 'paused',
              row.started,
              row.completed,
              row.failed,
              row.cancelled,
            ]),
          );
    return { text, json: value };
  },
};

const runs: CommandSpec = {
  positionals: [],
  options: ['flow', 'status', 'limit'],
  run: async (input) => {
    const status = option(input, 'status');
    if (status !== undefined && !RUN_STATUSES.includes(status)) {
      throw new UsageError(`--status '${status}' is not a run status: pass ${RUN_STATUSES.join(', ')}.`);
    }
    const limitText = option(input, 'limit') ?? '20';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000) {
      throw new UsageError(`--limit '${limitText}' is not a number of runs from 1 to 1000.`);
    }
    const rows = await engine<{
      run_id: string;
      flow_slug: string;
      status: string;
      started_at: Date;
      completed_at: Date | null;
      failed_at: Date | null;
      cancelled_at: Date | null;
      concurrency_key: string | null;
      concurrency_state: string | null;
    }>(input, sql.listRuns, [option(input, 'flow') ?? null, status ?? null, null, null, limit, null, null]);
    const value = rows.map((row) => ({
      runId: row.run_id,
      flowSlug: row.flow_slug,
      status: row.status,
      concurrencyKey: row.concurrency_key,
      waitingForSlot: isWaitingForSlot(row),
      startedAt: row.started_at,
      endedAt: row.completed_at ?? row.failed_at ?? row.cancelled_at,
    }));
    const text =
      rows.length === 0
        ? 'No runs match.'
        : table(
            ['RUN', 'FLOW', 'STATUS', 'STARTED', 'ENDED'],
            value.map((run) => [run.runId, run.flowSlug, statusText(run), run.startedAt, run.endedAt]),
          );
    return { text, json: value };
  },
};

interface SnapshotStep {
  step_slug: string;
  status: string;
  output: unknown;
  error_message: string | null;
  started_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  skipped_at: string | null;
  cancelled_at: string | null;
}
interface SnapshotTask {
  step_slug: string;
  task_index: number;
  status: string;
  attempts_count: number;
  error_message: string | null;
}

const run: CommandSpec = {
  positionals: ['run-id'],
  options: [],
  run: async (input) => {
    const id = runId(input.positionals[0]);
    const [row] = await engine<{
      run_id: string;
      flow_slug: string;
      status: string;
      input: unknown;
      output: unknown;
      started_at: Date;
      completed_at: Date | null;
      failed_at: Date | null;
      cancelled_at: Date | null;
      cancel_reason: string | null;
      concurrency_key: string | null;
      concurrency_state: string | null;
      steps: SnapshotStep[];
      tasks: SnapshotTask[];
    }>(input, sql.runSnapshot, [id, true]);
    if (row === undefined) throw new RefusedError(`Run ${id} does not exist.`);
    const value = {
      runId: row.run_id,
      flowSlug: row.flow_slug,
      status: row.status,
      concurrencyKey: row.concurrency_key,
      waitingForSlot: isWaitingForSlot(row),
      input: row.input,
      output: row.output,
      startedAt: row.started_at,
      endedAt: row.completed_at ?? row.failed_at ?? row.cancelled_at,
      cancelReason: row.cancel_reason,
      steps: row.steps.map((step) => ({
        stepSlug: step.step_slug,
        status: step.status,
        output: step.output,
        errorMessage: step.error_message,
        tasks: row.tasks
          .filter((task) => task.step_slug === step.step_slug)
          .map((task) => ({
            taskIndex: task.task_index,
            status: task.status,
            attemptsCount: task.attempts_count,
            errorMessage: task.error_message,
          })),
      })),
    };
    const heading = table(
      ['RUN', 'FLOW', 'STATUS', 'STARTED', 'ENDED'],
      [[value.runId, value.flowSlug, statusText(value), value.startedAt, value.endedAt]],
    );
    const steps = table(
      ['STEP', 'STATUS', 'TASKS', 'ATTEMPTS', 'ERROR'],
      value.steps.map((step): Cell[] => [
        step.stepSlug,
        step.status,
        step.tasks.length,
        step.tasks.reduce((total, task) => total + task.attemptsCount, 0),
        step.errorMessage,
      ]),
    );
    const reason = value.cancelReason === null ? '' : `\nCancelled: ${value.cancelReason}`;
    return { text: `${heading}${reason}\n\n${steps}`, json: value };
  },
};

const cancel: CommandSpec = {
  positionals: ['run-id'],
  options: ['reason'],
  run: async (input) => {
    const id = runId(input.positionals[0]);
    const [row] = await engine<{ result: { run_id: string; status: string; cancelled: boolean } }>(
      input,
      sql.cancelRun,
      [id, option(input, 'reason') ?? null],
    );
    const result = row?.result;
    if (!result?.cancelled) {
      throw new RefusedError(`Run ${id} is ${result?.status}: only a run in progress (started) can be cancelled.`);
    }
    return { text: `Cancelled run ${id}.`, json: { runId: id, status: result.status, cancelled: true } };
  },
};

const retry: CommandSpec = {
  positionals: ['run-id'],
  options: ['from-step'],
  run: async (input) => {
    const id = runId(input.positionals[0]);
    const [row] = await engine<{ run_id: string; flow_slug: string }>(input, sql.retryRun, [
      id,
      option(input, 'from-step') ?? null,
    ]);
    return {
      text: `Retrying run ${id} of flow ${row?.flow_slug}.`,
      json: { runId: id, flowSlug: row?.flow_slug, status: 'started' },
    };
  },
};

function pauseOrResume(paused: boolean): CommandSpec {
  return {
    positionals: ['flow'],
    options: [],
    run: async (input) => {
      const flowSlug = input.positionals[0] as string;
      const [row] = await engine<{ result: { flow_slug: string; paused: boolean; changed: boolean } }>(
        input,
        paused ? sql.pauseFlow : sql.resumeFlow,
        [flowSlug],
      );
      const changed = row?.result.changed ?? false;
      const state = paused ? 'paused' : 'running';
      const text = changed
        ? `Flow ${flowSlug} is ${paused ? 'paused: workers take none of its tasks' : 'running again'}.`
        : `Flow ${flowSlug} was already ${state}.`;
      return { text, json: { flowSlug, paused, changed } };
    },
  };
}

const prune: CommandSpec = {
  positionals: [],
  options: ['older-than'],
  run: async (input) => {
    const text = option(input, 'older-than');
    const days = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isFinite(days) || days < 0) {
      throw new UsageError(
        `prune needs --older-than <days>, a number of days from 0 (got ${text === undefined ? 'none' : `'${text}'`}), ` +
          'e.g. --older-than 30.',
      );
    }
    await engine(input, sql.pruneDataOlderThan, [days * SECONDS_PER_DAY]);
    return {
      text: `Pruned the runs that ended more than ${days} day(s) ago, with their steps, tasks and queue messages.`,
      json: { olderThanDays: days, pruned: true },
    };
  },
};

/** The commands that work on the engine (migrate is apart: it needs TypeORM). */
export const ENGINE_COMMANDS: Readonly<Record<string, CommandSpec>> = {
  flows,
  runs,
  run,
  cancel,
  retry,
  pause: pauseOrResume(true),
  resume: pauseOrResume(false),
  prune,
};
