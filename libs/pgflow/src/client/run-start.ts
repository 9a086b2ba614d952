/**
 * What FlowClient checks before a start, and how it turns the engine's refusal of a start into the
 * library's error (by SQLSTATE, never by message text).
 */
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlErrorField, sqlStateOf } from '../db/sql-state.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { InvalidRunInputError } from '../errors/invalid-run-input.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import { RunAlreadyExistsError } from '../errors/run-already-exists.error.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import { jsonBytes } from '../limits/payload-limits.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import type { RunRouter } from '../registration/run-router.ts';
import type { FlowReference } from '../types/flow-class.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The engine's limit on an idempotency key (runs.idempotency_key). */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** A run's flow, by class or by slug (a slug the registry does not know is checked by the engine). */
export function flowOf<F extends object>(
  registry: FlowRegistry,
  flow: FlowReference<F>,
): { slug: string; definition: FlowDefinition | undefined } {
  const definition = typeof flow === 'string' ? registry.find(flow) : registry.get(flow);
  return { slug: definition?.slug ?? (flow as string), definition };
}

/** A run input as the JSON the engine stores, or InvalidRunInputError naming what is wrong. */
export function runInput(
  slug: string,
  definition: FlowDefinition | undefined,
  input: unknown,
  path: string,
  maxBytes: number | undefined,
): unknown {
  let json: unknown;
  try {
    json = toJsonValue(input, path);
  } catch (error) {
    if (error instanceof NotJsonError) throw InvalidRunInputError.notJson(slug, error);
    throw error;
  }
  if (definition !== undefined && definition.rootMapSteps.length > 0 && !Array.isArray(json)) {
    throw InvalidRunInputError.notAnArray(slug, definition.rootMapSteps, input, path);
  }
  if (maxBytes !== undefined && jsonBytes(json) > maxBytes) {
    throw new InvalidRunInputError(
      slug,
      `${path} is ${jsonBytes(json)} bytes of JSON, more than this process's limit of ${maxBytes} ` +
        '(PgflowModule limits.maxInputBytes); pass a reference to large data (a key, a URL) instead, or raise the limit',
      { path },
    );
  }
  return json;
}

export function assertNewRunId(runId: unknown, option: string, subject: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError(option, runId, 'a UUID string, e.g. crypto.randomUUID()', { subject });
  }
}

export function assertIdempotencyKey(key: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidOptionsError(
      'idempotencyKey',
      key,
      `a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (e.g. a hash of what makes the start unique)`,
      { subject: 'FlowClient.start() option' },
    );
  }
}

/** The engine's bounds of a run priority (runs_priority_in_range). */
export const MIN_PRIORITY = -1_000_000;
export const MAX_PRIORITY = 1_000_000;

/** A run priority as the engine takes it (0 when none is given), or InvalidOptionsError naming the value. */
export function runPriority(priority: unknown, subject: string): number {
  if (priority === undefined) return 0;
  if (
    typeof priority !== 'number' ||
    !Number.isSafeInteger(priority) ||
    priority < MIN_PRIORITY ||
    priority > MAX_PRIORITY
  ) {
    throw new InvalidOptionsError(
      'priority',
      priority,
      `an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first; 0, the default, for ordinary runs)`,
      { subject },
    );
  }
  return priority;
}

/** Two runs cannot have one id: say which entries repeat, before the engine refuses the batch. */
export function assertDistinctRunIds(runIds: readonly string[]): void {
  const first = new Map<string, number>();
  for (const [i, runId] of runIds.entries()) {
    const key = runId.toLowerCase();
    const earlier = first.get(key);
    if (earlier !== undefined) {
      throw new InvalidOptionsError(
        `runIds[${i}]`,
        runId,
        `a run id that no other entry has (runIds[${earlier}] has it)`,
        {
          subject: 'FlowClient.startMany() option',
        },
      );
    }
    first.set(key, i);
  }
}

export function assertRunId(runId: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError('runId', runId, 'the UUID of a run, as returned by FlowClient.start()', {
      subject: 'FlowClient argument',
    });
  }
}

/** The library's error for a refused start, decided by the engine's SQLSTATE. */
export async function startError(
  registry: FlowRegistry,
  router: RunRouter,
  target: PgflowRegistration,
  error: unknown,
  slug: string,
  runIds: readonly string[],
): Promise<unknown> {
  switch (sqlStateOf(error)) {
    case EngineSqlState.FlowNotFound:
      return new FlowNotFoundError(
        slug,
        'slug',
        registry.getSlugs(),
        target.options.dataSource !== undefined || router.all().length > 1
          ? `The database of the PgflowModule registration on '${target.name}' has no flow with this slug or alias.`
          : 'The database has no flow with this slug or alias.',
      );
    case EngineSqlState.RootMapInputNotArray:
    case EngineSqlState.InputTooLarge:
    case EngineSqlState.MapTooLarge:
      return new InvalidRunInputError(slug, (error as Error).message, { cause: error });
    case EngineSqlState.RunAlreadyExists:
      return new RunAlreadyExistsError(await existingRunId(target, error, runIds), { cause: error });
    default:
      return error;
  }
}

/**
 * Which of the run ids the caller gave exists, after the engine refused them (PF008): the one in
 * the error's `detail` when the engine names it there, else the first, in the caller's order, that
 * a committed run has (read outside the caller's transaction, which the error has aborted). Null
 * when none does: the run was started earlier in the caller's own transaction.
 */
async function existingRunId(
  target: PgflowRegistration,
  error: unknown,
  runIds: readonly string[],
): Promise<string | null> {
  if (runIds.length === 1) return runIds[0] as string;
  const detail = sqlErrorField(error, 'detail')?.toLowerCase();
  const named = runIds.find((runId) => runId.toLowerCase() === detail);
  if (named !== undefined) return named;
  if (runIds.length === 0) return null;
  try {
    const rows = await target.database.query<{ run_id: string }>(sql.existingRunIds, [runIds]);
    const existing = new Set(rows.map((row) => row.run_id.toLowerCase()));
    return runIds.find((runId) => existing.has(runId.toLowerCase())) ?? null;
  } catch {
    // The refusal is what the caller needs to know; without the lookup it names no run.
    return null;
  }
}
