/**
 * FlowClient.listRuns(): pages of runs, newest first, from pgflow.list_runs (keyset pagination over
 * an index: a page costs the same whatever the number of runs). With several registrations, each
 * database gives its page and the pages are merged newest first; the cursor (the last run's
 * started_at to the microsecond, and its id) is the same for every database.
 */
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlStateOf } from '../db/sql-state.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import type { RunRouter } from '../registration/run-router.ts';
import type { RunStatusValue } from './run.types.ts';
import type { ListRunsOptions, RunPage, RunSummary } from './run-control.types.ts';
import { isWaitingForSlot } from './run-rows.ts';
import { flowOf, UUID } from './run-start.ts';

const STATUSES: ReadonlySet<unknown> = new Set(['started', 'completed', 'failed', 'cancelled']);
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const SUBJECT = { subject: 'FlowClient.listRuns() option' };
/** An exact started_at, as sql.listRuns writes it. */
const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface ListedRow {
  readonly run_id: string;
  readonly flow_slug: string;
  readonly status: RunStatusValue;
  readonly input: unknown;
  readonly output: unknown;
  readonly started_at: Date;
  readonly completed_at: Date | null;
  readonly failed_at: Date | null;
  readonly cancelled_at: Date | null;
  readonly cancel_reason: string | null;
  readonly concurrency_key: string | null;
  readonly concurrency_state: string | null;
  readonly started_at_exact: string;
}

interface Cursor {
  readonly startedAt: string;
  readonly runId: string;
}

export async function listRuns(
  registry: FlowRegistry,
  router: RunRouter,
  options: ListRunsOptions = {},
): Promise<RunPage> {
  const { status, startedAfter, startedBefore, limit = DEFAULT_LIMIT, cursor } = options;
  if (status !== undefined && !STATUSES.has(status)) {
    throw new InvalidOptionsError('status', status, "'started', 'completed', 'failed' or 'cancelled'", SUBJECT);
  }
  for (const [name, value] of [
    ['startedAfter', startedAfter],
    ['startedBefore', startedBefore],
  ] as const) {
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw new InvalidOptionsError(name, value, 'a valid Date', SUBJECT);
    }
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidOptionsError('limit', limit, `an integer from 1 to ${MAX_LIMIT}`, SUBJECT);
  }
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const slug = options.flow === undefined ? undefined : flowOf(registry, options.flow).slug;
  const targets = slug === undefined ? router.all() : [router.forFlow(slug)];

  // One more than the page from each database: whether a next page exists.
  const params = [
    slug ?? null,
    status ?? null,
    startedAfter ?? null,
    startedBefore ?? null,
    limit + 1,
    after?.startedAt ?? null,
    after?.runId ?? null,
  ];
  const pages = await Promise.all(targets.map((target) => pageOf(target, params, slug, registry)));
  const merged = pages.flat().sort(newestFirst);
  const runs = merged.slice(0, limit);
  const last = runs[runs.length - 1];
  return {
    runs: runs.map(toSummary),
    nextCursor:
      merged.length > limit && last !== undefined
        ? encodeCursor({ startedAt: last.started_at_exact, runId: last.run_id })
        : null,
  };
}

async function pageOf(
  target: PgflowRegistration,
  params: readonly unknown[],
  slug: string | undefined,
  registry: FlowRegistry,
): Promise<ListedRow[]> {
  try {
    return await target.database.query<ListedRow>(sql.listRuns, params);
  } catch (error) {
    if (slug === undefined || sqlStateOf(error) !== EngineSqlState.FlowNotFound) throw error;
    throw new FlowNotFoundError(slug, 'slug', registry.getSlugs(), 'The database has no flow with this slug.');
  }
}

/** started_at descending, then run_id descending: the order of pgflow.list_runs. */
function newestFirst(a: ListedRow, b: ListedRow): number {
  if (a.started_at_exact !== b.started_at_exact) return a.started_at_exact < b.started_at_exact ? 1 : -1;
  const [x, y] = [a.run_id.toLowerCase(), b.run_id.toLowerCase()];
  return x === y ? 0 : x < y ? 1 : -1;
}

function toSummary(row: ListedRow): RunSummary {
  return {
    runId: row.run_id,
    flowSlug: row.flow_slug,
    status: row.status,
    input: row.input,
    output: row.output,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    failedAt: row.failed_at,
    cancelledAt: row.cancelled_at,
    cancelReason: row.cancel_reason,
    concurrencyKey: row.concurrency_key,
    waitingForSlot: isWaitingForSlot(row),
  };
}

/** Opaque to callers: base64url of the last run's exact started_at and id. */
function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.runId])).toString('base64url');
}

function decodeCursor(cursor: unknown): Cursor {
  const bad = (): InvalidOptionsError =>
    new InvalidOptionsError('cursor', cursor, 'the nextCursor of a previous listRuns() page, unchanged', SUBJECT);
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [startedAt, runId] = parsed as unknown[];
  if (typeof startedAt !== 'string' || !EXACT_TIME.test(startedAt) || typeof runId !== 'string' || !UUID.test(runId)) {
    throw bad();
  }
  return { startedAt, runId };
}
