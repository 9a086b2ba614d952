import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlStateOf } from '../db/sql-state.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { InvalidRunInputError } from '../errors/invalid-run-input.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import { PgflowShutdownError } from '../errors/pgflow-shutdown.error.ts';
import { RunAlreadyExistsError } from '../errors/run-already-exists.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import { jsonBytes } from '../limits/payload-limits.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import { assertManagerOf, type RunRouter } from '../registration/run-router.ts';
import type { FlowReference } from '../types/flow-class.ts';
import type { FlowInput, FlowOutput } from '../types/flow-types.ts';
import type {
  CompletedRun,
  RunEventListener,
  RunEventType,
  RunSnapshot,
  StartManyOptions,
  StartRunOptions,
  WaitOptions,
} from './run.types.ts';
import { type ReplayState, RunEventStream } from './run-event-stream.ts';
import { RunHandle, type RunWatcher } from './run-handle.ts';
import { type SnapshotRow, toRunSnapshot } from './run-rows.ts';
import { type RunOutcomeRow, waitForRun } from './run-wait.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Starts runs and watches them. Waiting and events use database notifications on the LISTEN
 * connection of the run's database (no polling), so they work in a process that runs no worker, and
 * a lost connection is followed by a re-read of the run's state, so no completion is missed.
 *
 * With PgflowModule registered once per database, the injected FlowClient sends each call to the
 * database of its flow's registration, and a call by run id to the database that holds the run
 * (asking each, once per run, when no handle says); `@InjectFlowClient(dataSource)` gives the client
 * of one registration.
 */
export class FlowClient implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly streams = new Map<string, Promise<RunEventStream>>();
  /** Waits in progress, rejected at shutdown (the runs go on). */
  private readonly pendingWaits = new Set<() => void>();
  /** Set when the application starts shutting down: a wait() from then on is refused at once. */
  private shuttingDown = false;
  /** Per registration, what the handles of its runs wait and watch through (no look-up of the run). */
  private readonly watchers = new Map<PgflowRegistration, RunWatcher>();

  /** Created by PgflowModule: inject it (or `@InjectFlowClient(dataSource)`) rather than constructing one. */
  constructor(
    private readonly registry: FlowRegistry,
    private readonly router: RunRouter,
  ) {}

  /**
   * Starts a run of a flow (its class, its slug, or its alias: the newest version under it) with
   * `input`, and returns its handle (whose `flowSlug` is the version started). With
   * `manager` the run is created in that transaction and exists only if it commits.
   */
  async start<F extends object>(
    flow: FlowReference<F>,
    input: FlowInput<F>,
    options: StartRunOptions = {},
  ): Promise<RunHandle<FlowOutput<F>, FlowInput<F>>> {
    const { slug, definition } = flowOf(this.registry, flow);
    const target = this.router.forFlow(slug);
    if (options.runId !== undefined) assertNewRunId(options.runId, 'runId', 'FlowClient.start() option');
    assertManagerOf(this.router, target, slug, options.manager, 'FlowClient.start() option');
    const json = runInput(slug, definition, input, 'input', target.options.limits.maxInputBytes);
    await target.compiler.compileAll();

    let rows: Array<{ run_id: string; flow_slug: string }>;
    try {
      rows = await target.database.query(
        sql.startFlow,
        [slug, JSON.stringify(json), options.runId ?? null],
        options.manager,
      );
    } catch (error) {
      throw await this.startError(target, error, slug, options.runId === undefined ? [] : [options.runId]);
    }
    const [run] = rows;
    if (run === undefined) throw new Error(`pgflow.start_flow('${slug}') returned no run.`);
    // The flow the engine chose: for an alias, its newest version.
    target.workers.started(run.flow_slug);
    return new RunHandle(run.run_id, run.flow_slug, this.watcherOf(target));
  }

  /**
   * Starts one run per element of `inputs` in one statement and one transaction, and returns their
   * handles in the same order: thousands of runs cost about what a few single starts cost. All or
   * nothing: when one input is refused, no run is started. `runIds` gives each run its id.
   */
  async startMany<F extends object>(
    flow: FlowReference<F>,
    inputs: readonly FlowInput<F>[],
    options: StartManyOptions = {},
  ): Promise<RunHandle<FlowOutput<F>, FlowInput<F>>[]> {
    const { slug, definition } = flowOf(this.registry, flow);
    const target = this.router.forFlow(slug);
    if (!Array.isArray(inputs)) {
      throw new InvalidOptionsError('inputs', inputs, 'an array with one run input per run', {
        subject: 'FlowClient.startMany() argument',
      });
    }
    const { runIds } = options;
    if (runIds !== undefined) {
      if (!Array.isArray(runIds) || runIds.length !== inputs.length) {
        throw new InvalidOptionsError('runIds', runIds, `an array of ${inputs.length} UUIDs, one per input`, {
          subject: 'FlowClient.startMany() option',
        });
      }
      for (const [i, runId] of runIds.entries()) {
        assertNewRunId(runId, `runIds[${i}]`, 'FlowClient.startMany() option');
      }
      assertDistinctRunIds(runIds);
    }
    assertManagerOf(this.router, target, slug, options.manager, 'FlowClient.startMany() option');
    const json = inputs.map((input, i) =>
      runInput(slug, definition, input, `inputs[${i}]`, target.options.limits.maxInputBytes),
    );
    if (json.length === 0) return [];
    await target.compiler.compileAll();

    let rows: Array<{ run_id: string; flow_slug: string }>;
    try {
      rows = await target.database.query(sql.startFlows, [slug, JSON.stringify(json), runIds ?? null], options.manager);
    } catch (error) {
      throw await this.startError(target, error, slug, runIds ?? []);
    }
    target.workers.started(rows[0]?.flow_slug ?? slug);
    const watcher = this.watcherOf(target);
    return rows.map((run) => new RunHandle(run.run_id, run.flow_slug, watcher));
  }

  /**
   * Waits for a run to end: resolves with the completed run, rejects with RunFailedError when it
   * fails, WaitTimeoutError after `timeoutMs`, the signal's reason when `signal` aborts, and
   * RunNotFoundError when no such run exists.
   */
  async wait<TOutput = unknown, TInput = unknown>(
    runId: string,
    options: WaitOptions = {},
  ): Promise<CompletedRun<TOutput, TInput>> {
    assertRunId(runId);
    this.assertCanWait(runId, options);
    return this.waitIn(await this.router.forRun(runId), runId, options);
  }

  /** The run with its step states and their tasks, in step order; throws RunNotFoundError. */
  async getRun(runId: string): Promise<RunSnapshot> {
    assertRunId(runId);
    const target = await this.router.forRun(runId);
    const [row] = await target.database.query<SnapshotRow>(sql.runSnapshot, [runId, true]);
    if (row === undefined) throw new RunNotFoundError(runId);
    return toRunSnapshot(row);
  }

  /**
   * Calls `listener` with the run's events of `type` ('*': all), including those that happened
   * before the call (replayed from the run's state, marked `replayed`). Returns the unsubscribe
   * function. The subscription is active when the returned promise resolves.
   */
  async watch(runId: string, type: RunEventType | '*', listener: RunEventListener): Promise<() => void> {
    assertRunId(runId);
    return this.watchIn(await this.router.forRun(runId), runId, type, listener);
  }

  /**
   * Ends every pending wait() with PgflowShutdownError at the start of shutdown, before Nest closes
   * the HTTP server: that waits for the requests in progress, and a request holding a wait would
   * otherwise hold the shutdown until the wait's own timeout.
   */
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const reject of [...this.pendingWaits]) reject();
  }

  onApplicationShutdown(): void {
    this.beforeApplicationShutdown();
  }

  /** What the handles of runs in `target`'s database wait and watch through. */
  private watcherOf(target: PgflowRegistration): RunWatcher {
    let watcher = this.watchers.get(target);
    if (watcher === undefined) {
      watcher = {
        wait: (runId, options = {}) => this.waitIn(target, runId, options),
        watch: (runId, type, listener) => this.watchIn(target, runId, type, listener),
      };
      this.watchers.set(target, watcher);
    }
    return watcher;
  }

  /** wait() once the run's database is known. */
  private async waitIn<TOutput, TInput>(
    target: PgflowRegistration,
    runId: string,
    options: WaitOptions,
  ): Promise<CompletedRun<TOutput, TInput>> {
    // Again after a look-up of the run: the signal may have fired, or the shutdown begun, meanwhile.
    this.assertCanWait(runId, options);
    return waitForRun<TOutput, TInput>(runId, options, {
      listener: target.listener,
      readOutcome: (id) => this.readOutcome(target, id),
      onShutdown: (rejectWait) => {
        this.pendingWaits.add(rejectWait);
        return () => this.pendingWaits.delete(rejectWait);
      },
    });
  }

  private assertCanWait(runId: string, { timeoutMs, signal }: WaitOptions): void {
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new InvalidOptionsError('timeoutMs', timeoutMs, 'a number of milliseconds, 0 or more', {
        subject: 'wait() option',
      });
    }
    signal?.throwIfAborted();
    if (this.shuttingDown) throw new PgflowShutdownError(runId);
  }

  /** watch() once the run's database is known. */
  private async watchIn(
    target: PgflowRegistration,
    runId: string,
    type: RunEventType | '*',
    listener: RunEventListener,
  ): Promise<() => void> {
    let stream = this.streams.get(runId);
    if (stream === undefined) {
      const created = new RunEventStream(runId, target.listener, (id) => this.readReplayState(target, id));
      stream = created.open().then(() => created);
      this.streams.set(runId, stream);
      stream.catch(() => this.streams.delete(runId));
    }
    const opened = await stream;
    const remove = opened.add(type, listener);
    return () => {
      remove();
      if (opened.size === 0 && this.streams.get(runId) === stream) {
        this.streams.delete(runId);
        void opened.close();
      }
    };
  }

  private async readOutcome(target: PgflowRegistration, runId: string): Promise<RunOutcomeRow | undefined> {
    const [row] = await target.database.query<RunOutcomeRow>(sql.runOutcome, [runId]);
    return row;
  }

  private async readReplayState(target: PgflowRegistration, runId: string): Promise<ReplayState | undefined> {
    const [row] = await target.database.query<SnapshotRow>(sql.runSnapshot, [runId, false]);
    if (row === undefined) return undefined;
    const snapshot = toRunSnapshot(row);
    return {
      run: { ...snapshot, failedStep: row.failed_step, errorMessage: row.error_message },
      steps: snapshot.steps,
      retriedTasks: snapshot.steps.flatMap((step) =>
        step.tasks.map((task) => ({ ...task, stepSlug: step.stepSlug, status: task.status })),
      ),
    };
  }

  /** The library's error for a refused start, decided by the engine's SQLSTATE. */
  private async startError(
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
          this.registry.getSlugs(),
          target.options.dataSource !== undefined || this.router.all().length > 1
            ? `The database of the PgflowModule registration on '${target.name}' has no flow with this slug or alias.`
            : 'The database has no flow with this slug or alias.',
        );
      case EngineSqlState.RootMapInputNotArray:
      case EngineSqlState.InputTooLarge:
      case EngineSqlState.MapTooLarge:
        return new InvalidRunInputError(slug, (error as Error).message, { cause: error });
      case EngineSqlState.RunAlreadyExists:
        return new RunAlreadyExistsError(await this.existingRunId(target, error, runIds), { cause: error });
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
  private async existingRunId(
    target: PgflowRegistration,
    error: unknown,
    runIds: readonly string[],
  ): Promise<string | null> {
    if (runIds.length === 1) return runIds[0] as string;
    const detail = errorDetail(error)?.toLowerCase();
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
}

/**
 * A run's flow, by class or by slug. A string the registry has no slug for (an alias, or a flow this
 * application has no class for) goes to the engine as is: it starts the flow with that slug, or the
 * newest version under that alias, which may be newer than any class of this process.
 */
function flowOf<F extends object>(
  registry: FlowRegistry,
  flow: FlowReference<F>,
): { slug: string; definition: FlowDefinition | undefined } {
  const definition = typeof flow === 'string' ? registry.find(flow) : registry.get(flow);
  return { slug: definition?.slug ?? (flow as string), definition };
}

/** A run input as the JSON the engine stores, or InvalidRunInputError naming what is wrong. */
function runInput(
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

function assertNewRunId(runId: unknown, option: string, subject: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError(option, runId, 'a UUID string, e.g. crypto.randomUUID()', { subject });
  }
}

/** Two runs cannot have one id: say which entries repeat, before the engine refuses the batch. */
function assertDistinctRunIds(runIds: readonly string[]): void {
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

/** The `detail` field of a PostgreSQL error (pg's, or wrapped by TypeORM as driverError). */
function errorDetail(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { detail, driverError } = error as { detail?: unknown; driverError?: unknown };
  if (typeof detail === 'string') return detail;
  return driverError === undefined ? undefined : errorDetail(driverError);
}

function assertRunId(runId: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError('runId', runId, 'the UUID of a run, as returned by FlowClient.start()', {
      subject: 'FlowClient argument',
    });
  }
}
