import { type BeforeApplicationShutdown, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { FlowCompiler } from '../compilation/flow-compiler.service.ts';
import { runChannel, sql } from '../db/engine.sql.ts';
import { NotificationListener } from '../db/notification-listener.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { EngineSqlState, isConnectionError, sqlStateOf } from '../db/sql-state.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { InvalidRunInputError } from '../errors/invalid-run-input.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import { PgflowShutdownError } from '../errors/pgflow-shutdown.error.ts';
import { RunAlreadyExistsError } from '../errors/run-already-exists.error.ts';
import { RunFailedError } from '../errors/run-failed.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { WaitTimeoutError } from '../errors/wait-timeout.error.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import { Backoff } from '../support/backoff.ts';
import type { FlowReference } from '../types/flow-class.ts';
import type { FlowInput, FlowOutput } from '../types/flow-types.ts';
import type {
  CompletedRun,
  RunEvent,
  RunEventListener,
  RunEventType,
  RunSnapshot,
  StartManyOptions,
  StartRunOptions,
  WaitOptions,
} from './run.types.ts';
import { type ReplayState, RunEventStream } from './run-event-stream.ts';
import { RunHandle } from './run-handle.ts';
import { type RunRow, type SnapshotRow, toRunSnapshot } from './run-rows.ts';
import { WorkerPresenceCheck } from './worker-presence.check.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** A run with the step that failed it, if any (sql.runOutcome). */
interface Outcome extends RunRow {
  readonly failed_step: string | null;
  readonly error_message: string | null;
}

/**
 * Starts runs and watches them. Waiting and events use database notifications on the process's one
 * LISTEN connection (no polling), so they work in a process that runs no worker, and a lost
 * connection is followed by a re-read of the run's state, so no completion is missed.
 */
@Injectable()
export class FlowClient implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly streams = new Map<string, Promise<RunEventStream>>();
  /** Waits in progress, rejected at shutdown (the runs go on). */
  private readonly pendingWaits = new Map<() => void, string>();
  /** Set when the application starts shutting down: a wait() from then on is refused at once. */
  private shuttingDown = false;

  constructor(
    private readonly registry: FlowRegistry,
    private readonly database: PgflowDatabase,
    private readonly listener: NotificationListener,
    private readonly compiler: FlowCompiler,
    private readonly workers: WorkerPresenceCheck,
  ) {}

  /**
   * Starts a run of a flow (its class or its slug) with `input`, and returns its handle. With
   * `manager` the run is created in that transaction and exists only if it commits.
   */
  async start<F extends object>(
    flow: FlowReference<F>,
    input: FlowInput<F>,
    options: StartRunOptions = {},
  ): Promise<RunHandle<FlowOutput<F>, FlowInput<F>>> {
    const { slug, definition } = flowOf(this.registry, flow);
    if (options.runId !== undefined) assertNewRunId(options.runId, 'runId', 'FlowClient.start() option');
    const json = runInput(slug, definition, input, 'input');
    await this.compiler.compileAll();

    let rows: Array<{ run_id: string; flow_slug: string }>;
    try {
      rows = await this.database.query(
        sql.startFlow,
        [slug, JSON.stringify(json), options.runId ?? null],
        options.manager,
      );
    } catch (error) {
      throw this.startError(error, slug, options.runId);
    }
    const [run] = rows;
    if (run === undefined) throw new Error(`pgflow.start_flow('${slug}') returned no run.`);
    this.workers.started(slug);
    return new RunHandle(run.run_id, run.flow_slug, this);
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
    }
    const json = inputs.map((input, i) => runInput(slug, definition, input, `inputs[${i}]`));
    if (json.length === 0) return [];
    await this.compiler.compileAll();

    let rows: Array<{ run_id: string; flow_slug: string }>;
    try {
      rows = await this.database.query(sql.startFlows, [slug, JSON.stringify(json), runIds ?? null], options.manager);
    } catch (error) {
      throw this.startError(error, slug, undefined);
    }
    this.workers.started(slug);
    return rows.map((run) => new RunHandle(run.run_id, run.flow_slug, this));
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
    const { timeoutMs, signal } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new InvalidOptionsError('timeoutMs', timeoutMs, 'a number of milliseconds, 0 or more', {
        subject: 'wait() option',
      });
    }
    signal?.throwIfAborted();
    if (this.shuttingDown) throw new PgflowShutdownError(runId);

    return new Promise<CompletedRun<TOutput, TInput>>((resolve, reject) => {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      let unsubscribe: (() => Promise<void>) | undefined;
      let stopReconnect: (() => void) | undefined;
      const finish = (settle: () => void): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(retryTimer);
        signal?.removeEventListener('abort', onAbort);
        stopReconnect?.();
        this.pendingWaits.delete(onShutdown);
        void unsubscribe?.();
        settle();
      };
      const fail = (error: unknown): void => finish(() => reject(error));
      const onAbort = (): void => fail(signal?.reason);
      const onShutdown = (): void => fail(new PgflowShutdownError(runId));
      const retries = new Backoff(100, 2_000);
      let retryTimer: NodeJS.Timeout | undefined;
      const check = async (): Promise<void> => {
        clearTimeout(retryTimer);
        try {
          const outcome = await this.readOutcome(runId);
          retries.reset();
          if (outcome === undefined) fail(new RunNotFoundError(runId));
          else if (outcome.status === 'failed')
            fail(new RunFailedError(runId, outcome.failed_step, outcome.error_message));
          else if (outcome.status === 'completed') finish(() => resolve(completedRun<TOutput, TInput>(outcome)));
        } catch (error) {
          if (finished) return;
          if (!isConnectionError(error)) {
            fail(error);
            return;
          }
          // The database is unreachable: read again after a backoff (the run may end meanwhile, and
          // its notification may be lost with the connection).
          retryTimer = setTimeout(() => void check(), retries.next());
        }
      };

      this.pendingWaits.set(onShutdown, runId);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => fail(new WaitTimeoutError(runId, timeoutMs)), timeoutMs);
      stopReconnect = this.listener.onReconnect(() => void check());
      this.listener
        .subscribe(runChannel(runId), (payload) => {
          if (!payload.includes('"run:completed"') && !payload.includes('"run:failed"')) return;
          // The run's end event usually carries all wait() needs; a read is the fallback.
          const settled = settleFromEvent(runId, payload);
          if (settled instanceof Error) fail(settled);
          else if (settled !== undefined) finish(() => resolve(settled as CompletedRun<TOutput, TInput>));
          else void check();
        })
        .then((off) => {
          unsubscribe = off;
          if (finished) void off();
          else void check();
        }, fail);
    });
  }

  /** The run with its step states and their tasks, in step order; throws RunNotFoundError. */
  async getRun(runId: string): Promise<RunSnapshot> {
    assertRunId(runId);
    const [row] = await this.database.query<SnapshotRow>(sql.runSnapshot, [runId, true]);
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
    let stream = this.streams.get(runId);
    if (stream === undefined) {
      const created = new RunEventStream(runId, this.listener, (id) => this.readReplayState(id));
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

  /**
   * Ends every pending wait() with PgflowShutdownError at the start of shutdown, before Nest closes
   * the HTTP server: that waits for the requests in progress, and a request holding a wait would
   * otherwise hold the shutdown until the wait's own timeout.
   */
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const reject of [...this.pendingWaits.keys()]) reject();
  }

  onApplicationShutdown(): void {
    this.beforeApplicationShutdown();
  }

  private async readOutcome(runId: string): Promise<Outcome | undefined> {
    const [row] = await this.database.query<Outcome>(sql.runOutcome, [runId]);
    return row;
  }

  private async readReplayState(runId: string): Promise<ReplayState | undefined> {
    const [row] = await this.database.query<SnapshotRow>(sql.runSnapshot, [runId, false]);
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

  private startError(error: unknown, slug: string, runId: string | undefined): unknown {
    switch (sqlStateOf(error)) {
      case EngineSqlState.FlowNotFound:
        return new FlowNotFoundError(
          slug,
          'slug',
          this.registry.getSlugs(),
          'The database has no flow with this slug.',
        );
      case EngineSqlState.RootMapInputNotArray:
        return new InvalidRunInputError(slug, (error as Error).message, { cause: error });
      case EngineSqlState.RunAlreadyExists:
        // A batch start names the run id in the message.
        return new RunAlreadyExistsError(runId ?? (error as Error).message.match(UUID_IN_TEXT)?.[0] ?? '(unknown)', {
          cause: error,
        });
      default:
        return error;
    }
  }
}

/** A run's flow, by class or by slug (a slug the registry does not know is checked by the engine). */
function flowOf<F extends object>(
  registry: FlowRegistry,
  flow: FlowReference<F>,
): { slug: string; definition: FlowDefinition | undefined } {
  const definition = typeof flow === 'string' ? registry.find(flow) : registry.get(flow);
  return { slug: definition?.slug ?? (flow as string), definition };
}

/** A run input as the JSON the engine stores, or InvalidRunInputError naming what is wrong. */
function runInput(slug: string, definition: FlowDefinition | undefined, input: unknown, path: string): unknown {
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
  return json;
}

function assertNewRunId(runId: unknown, option: string, subject: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError(option, runId, 'a UUID string, e.g. crypto.randomUUID()', { subject });
  }
}

function assertRunId(runId: string): void {
  if (typeof runId !== 'string' || !UUID.test(runId)) {
    throw new InvalidOptionsError('runId', runId, 'the UUID of a run, as returned by FlowClient.start()', {
      subject: 'FlowClient argument',
    });
  }
}

function completedRun<TOutput, TInput>(run: RunRow): CompletedRun<TOutput, TInput> {
  return {
    runId: run.run_id,
    flowSlug: run.flow_slug,
    status: 'completed',
    input: run.input as TInput,
    output: run.output as TOutput,
    startedAt: run.started_at,
    completedAt: run.completed_at as Date,
  };
}

/**
 * The outcome a run's end event gives, when it holds everything: the completed run (an event too
 * large for a notification leaves out its input or output, and then the caller reads the run), or
 * the RunFailedError of a failed run.
 */
function settleFromEvent(runId: string, payload: string): CompletedRun | RunFailedError | undefined {
  let event: RunEvent & { input?: unknown; started_at?: string; completed_at?: string };
  try {
    event = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (event.event_type === 'run:failed' && typeof event.error_message === 'string') {
    return new RunFailedError(runId, event.step_slug ?? null, event.error_message);
  }
  if (
    event.event_type !== 'run:completed' ||
    !('input' in event) ||
    !('output' in event) ||
    event.started_at === undefined ||
    event.completed_at === undefined
  ) {
    return undefined;
  }
  return {
    runId,
    flowSlug: event.flow_slug,
    status: 'completed',
    input: event.input,
    output: event.output,
    startedAt: new Date(event.started_at),
    completedAt: new Date(event.completed_at),
  };
}
