import { randomUUID } from 'node:crypto';
import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { PgflowShutdownError } from '../errors/pgflow-shutdown.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import { assertManagerOf, type RunRouter } from '../registration/run-router.ts';
import type { ScheduleInfo, SchedulePauseState } from '../schedules/schedule.types.ts';
import { ScheduleControl } from '../schedules/schedule-control.ts';
import { startRunSpan } from '../telemetry/pgflow-telemetry.ts';
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
import { RunControl } from './run-control.ts';
import type {
  CancelRunOptions,
  CancelRunResult,
  FlowPauseState,
  ListRunsOptions,
  RetryRunOptions,
  RunPage,
} from './run-control.types.ts';
import { RunEventStreams } from './run-event-streams.ts';
import { RunHandle, type RunWatcher } from './run-handle.ts';
import { keysOrNull, runKeys } from './run-keys.ts';
import { listRuns } from './run-listing.ts';
import { type SnapshotRow, toRunSnapshot } from './run-rows.ts';
import { type SignalResult, sendSignal } from './run-signals.ts';
import {
  assertDistinctRunIds,
  assertIdempotencyKey,
  assertNewRunId,
  assertRunId,
  flowOf,
  runInput,
  runPriority,
  startError,
} from './run-start.ts';
import { type RunOutcomeRow, waitForRun } from './run-wait.ts';
import { type StartedRun, startRun } from './start-statement.ts';

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
  private readonly streams = new RunEventStreams();
  /** Waits in progress, rejected at shutdown (the runs go on). */
  private readonly pendingWaits = new Set<() => void>();
  /** Set when the application starts shutting down: a wait() from then on is refused at once. */
  private shuttingDown = false;
  /** Per registration, what the handles of its runs wait and watch through (no look-up of the run). */
  private readonly watchers = new Map<PgflowRegistration, RunWatcher>();
  private readonly control: RunControl;
  private readonly schedules: ScheduleControl;

  /** Created by PgflowModule: inject it (or `@InjectFlowClient(dataSource)`) rather than constructing one. */
  constructor(
    private readonly registry: FlowRegistry,
    private readonly router: RunRouter,
  ) {
    this.control = new RunControl(
      registry,
      router,
      (target, runId, flowSlug) => new RunHandle(runId, flowSlug, this.watcherOf(target)),
    );
    this.schedules = new ScheduleControl(router);
  }

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
    const key = options.idempotencyKey;
    if (key !== undefined) assertIdempotencyKey(key);
    const priority = runPriority(options.priority, 'FlowClient.start() option');
    assertManagerOf(this.router, target, slug, options.manager, 'FlowClient.start() option');
    const json = runInput(slug, definition, input, 'input', target.options.limits.maxInputBytes);
    const keys = runKeys(slug, definition, json, 'input');
    await target.compiler.compileAll();

    // With a key, the run id is chosen here: a run with another id is the one that had the key.
    const runId = options.runId ?? (key === undefined ? null : randomUUID());
    let run: StartedRun | undefined;
    const span = startRunSpan(slug);
    const traceparent = span?.traceparent ?? null;
    try {
      run = await startRun(target, {
        slug,
        json: JSON.stringify(json),
        runId,
        idempotencyKey: key,
        traceparent,
        priority,
        rateLimitKey: keys.rateLimitKey,
        concurrencyKey: keys.concurrencyKey,
        manager: options.manager,
      });
      span?.end(run?.run_id);
    } catch (error) {
      span?.end(undefined, error);
      throw await startError(
        this.registry,
        this.router,
        target,
        error,
        slug,
        options.runId === undefined ? [] : [options.runId],
      );
    }
    if (run === undefined) throw new Error(`pgflow.start_flow('${slug}') returned no run.`);
    // The flow the engine chose: for an alias, its newest version.
    target.workers.started(run.flow_slug);
    const deduplicated = key !== undefined && run.run_id.toLowerCase() !== runId?.toLowerCase();
    return new RunHandle(run.run_id, run.flow_slug, this.watcherOf(target), deduplicated);
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
    const priority = runPriority(options.priority, 'FlowClient.startMany() option');
    assertManagerOf(this.router, target, slug, options.manager, 'FlowClient.startMany() option');
    const json = inputs.map((input, i) =>
      runInput(slug, definition, input, `inputs[${i}]`, target.options.limits.maxInputBytes),
    );
    if (json.length === 0) return [];
    const keys = json.map((value, i) => runKeys(slug, definition, value, `inputs[${i}]`));
    await target.compiler.compileAll();

    let rows: Array<{ run_id: string; flow_slug: string }>;
    const spans = json.map(() => startRunSpan(slug));
    const traceparents = spans.some((span) => span !== undefined)
      ? spans.map((span) => span?.traceparent ?? null)
      : null;
    try {
      rows = await target.database.query(
        sql.startFlows,
        [
          slug,
          JSON.stringify(json),
          runIds ?? null,
          traceparents,
          priority,
          keysOrNull(keys.map((k) => k.rateLimitKey)),
          keysOrNull(keys.map((k) => k.concurrencyKey)),
        ],
        options.manager,
      );
      for (const [i, span] of spans.entries()) span?.end(rows[i]?.run_id);
    } catch (error) {
      for (const span of spans) span?.end(undefined, error);
      throw await startError(this.registry, this.router, target, error, slug, runIds ?? []);
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
    return this.streams.watch(await this.router.forRun(runId), runId, type, listener);
  }

  /**
   * Cancels a run (cooperatively, on every worker): its unfinished steps and tasks become cancelled,
   * its queued tasks never start, and the handlers of the run still executing see `ctx.signal` abort
   * with a RunCancelledError within about a second. A run that already ended is left as it is
   * (`cancelled: false`). Throws RunNotFoundError for an unknown id.
   */
  cancel(runId: string, options: CancelRunOptions = {}): Promise<CancelRunResult> {
    return this.control.cancel(runId, options);
  }

  /**
   * Starts a failed or cancelled run again from where it stopped: completed steps keep their
   * outputs and do not run again; a map step re-runs only its tasks that did not complete. With
   * `fromStep`, that step and everything downstream run again (in a completed run too). Returns the
   * run's handle; throws RunNotRetryableError (nothing changed) or RunNotFoundError.
   */
  retry<TOutput = unknown, TInput = unknown>(
    runId: string,
    options: RetryRunOptions = {},
  ): Promise<RunHandle<TOutput, TInput>> {
    return this.control.retry(runId, options) as Promise<RunHandle<TOutput, TInput>>;
  }

  /**
   * Delivers signal `signalName` with `payload` (JSON) to a run: the step declared with
   * `@Step({ signal: signalName })` runs with the payload as its input. Sent before that step is
   * ready, it is kept and delivered when the step starts. Throws SignalRefusedError (the run ended,
   * no step waits for that name, the run already received it, or the step ended without it) or
   * RunNotFoundError; nothing changes then.
   */
  signal(runId: string, signalName: string, payload?: unknown): Promise<SignalResult> {
    return sendSignal(this.router, runId, signalName, payload);
  }

  /** Pauses a flow: no worker anywhere starts a task of it until resumeFlow(); starts still queue up. */
  pauseFlow(flow: FlowReference): Promise<FlowPauseState> {
    return this.control.pauseFlow(flow);
  }

  /** Resumes a paused flow: its workers take its queued tasks again at once. */
  resumeFlow(flow: FlowReference): Promise<FlowPauseState> {
    return this.control.resumeFlow(flow);
  }

  /**
   * Runs, newest first, a page at a time (`limit`, default 50), filtered by flow, status and start
   * time; pass the returned `nextCursor` as `cursor` for the next page (null on the last one).
   */
  listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    return listRuns(this.registry, this.router, options);
  }

  /** Every schedule (`@FlowSchedule()`, synced at boot), by name, with whether it is paused and its next tick. */
  listSchedules(): Promise<ScheduleInfo[]> {
    return this.schedules.list();
  }

  /**
   * Pauses a schedule by name, on every process: no tick of it fires until resumeSchedule(), restarts
   * included. Throws ScheduleNotFoundError for an unknown name.
   */
  pauseSchedule(name: string): Promise<SchedulePauseState> {
    return this.schedules.setPaused(name, true);
  }

  /** Resumes a paused schedule: it fires again from its first tick after now (the paused ticks are not caught up). */
  resumeSchedule(name: string): Promise<SchedulePauseState> {
    return this.schedules.setPaused(name, false);
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
        watch: (runId, type, listener) => this.streams.watch(target, runId, type, listener),
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
      // Not while this process watches the run's events (run.on(), watch()): the wait then settles on
      // the run's end notification, after the callbacks got its run:completed (or run:failed) event,
      // and listens at once.
      awaitLocally: (id, settle) => {
        const local = target.outcomes.await(id, (outcome) => {
          if (!this.streams.has(id)) settle(outcome);
        });
        return this.streams.has(id) ? { ...local, whenReleased: (listen) => listen() } : local;
      },
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

  private async readOutcome(target: PgflowRegistration, runId: string): Promise<RunOutcomeRow | undefined> {
    const [row] = await target.database.query<RunOutcomeRow>(sql.runOutcome, [runId]);
    return row;
  }
}
