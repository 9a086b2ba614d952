import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { FlowCompiler } from '../compilation/flow-compiler.service.ts';
import { sql, WORK_CHANNEL } from '../db/engine.sql.ts';
import { NotificationListener } from '../db/notification-listener.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { isConnectionError } from '../db/sql-state.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions, ResolvedPgflowWorkerOptions } from '../pgflow-options.ts';
import { Backoff } from '../support/backoff.ts';
import { FlowInputCache } from './flow-input-cache.ts';
import { type ClaimRow, type FlowPoller, newPoller, nextPollAt } from './flow-poller.ts';
import { Heartbeat } from './heartbeat.ts';
import { ResultBuffer, type Results } from './result-buffer.ts';
import { type ClaimedTask, TaskExecution } from './task-execution.ts';
import type { TaskOutcome } from './task-outcome.ts';
import { type WorkerState, WorkerStateMachine } from './worker-state.ts';

/** How many recently seen runs a claim names as known (their input is not sent again). */
const KNOWN_RUNS_PER_CLAIM = 32;
/**
 * Round trips in flight at once. Two let the database work on one batch while the other's rows
 * travel and its tasks are dispatched (a server has more than one core); the second starts only
 * when there is a backlog or results to report, so an idle worker still polls once.
 */
const MAX_ROUND_TRIPS = 2;

/**
 * The worker: one per process, serving every discovered flow (or `worker.flows`). It keeps up to
 * `maxConcurrent` tasks running, refilling slots as they free up; each round trip reports the
 * results of the tasks that finished meanwhile and claims new tasks (pgflow._report_and_claim: one
 * statement, one commit, however many tasks); it wakes up on the engine's notifications
 * instead of waiting out a poll interval, heartbeats, sweeps stalled tasks, backs off while the
 * database is unreachable, and stops gracefully: running tasks get `shutdownTimeoutMs` to finish,
 * the rest are handed back to the queue.
 */
@Injectable()
export class PgflowWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PgflowWorker');
  private readonly machine = new WorkerStateMachine();
  private readonly settings: ResolvedPgflowWorkerOptions;
  private readonly results: ResultBuffer;
  private readonly inputs: FlowInputCache;
  private readonly running = new Set<TaskExecution>();
  private readonly backoff = new Backoff(100, 5_000);
  /** While the database is unreachable: no round trip before this time (epoch ms). */
  private pausedUntil = 0;
  private pollers: FlowPoller[] = [];
  /** Round trips in flight, and the task slots their claims may fill. */
  private readonly roundTrips = new Set<Promise<void>>();
  private reservedSlots = 0;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private heartbeat: Heartbeat | undefined;
  private stopping: Promise<void> | undefined;
  private unsubscribes: Array<() => unknown> = [];

  constructor(
    @Inject(PGFLOW_MODULE_OPTIONS) options: ResolvedPgflowOptions,
    private readonly registry: FlowRegistry,
    private readonly database: PgflowDatabase,
    private readonly listener: NotificationListener,
    private readonly compiler: FlowCompiler,
  ) {
    this.settings = options.worker;
    this.results = new ResultBuffer(database, this.logger);
    this.inputs = new FlowInputCache(Math.max(256, this.settings.batchSize + 2 * KNOWN_RUNS_PER_CLAIM));
  }

  /** created, starting, running, stopping or stopped. */
  get state(): WorkerState {
    return this.machine.state;
  }

  /** How many tasks are running now. */
  get runningTasks(): number {
    return this.running.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.compiler.compileAll();
    if (this.settings.enabled) await this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Registers the worker and starts polling (done at bootstrap when the worker is enabled). */
  async start(): Promise<void> {
    this.machine.transition('starting');
    try {
      const flows =
        this.settings.flows === undefined ? this.registry.getAll() : this.registry.getMany(this.settings.flows);
      this.pollers = flows.map((definition) => newPoller(definition, randomUUID()));
      if (this.pollers.length > 0) {
        const name = `nestjs-pgflow@${hostname()}:${process.pid}`;
        await this.database.query(sql.registerWorkers, [
          this.pollers.map((p) => p.workerId),
          this.pollers.map((p) => p.definition.slug),
          this.pollers.map(() => name),
        ]);
        this.unsubscribes.push(await this.listener.subscribe(WORK_CHANNEL, (queue) => this.onWork(queue)));
        this.unsubscribes.push(this.listener.onReconnect(() => this.wakeAll()));
      }
    } catch (error) {
      this.machine.transition('stopped');
      throw error;
    }
    if (!this.machine.is('starting')) return; // stopped during startup
    this.machine.transition('running');
    this.heartbeat = new Heartbeat(
      this.database,
      this.logger,
      this.pollers.map((p) => p.workerId),
      this.settings.heartbeatIntervalMs,
    );
    this.heartbeat.start();
    this.loopDone = this.loop();
    this.logger.log(
      this.pollers.length === 0
        ? 'Worker started with no flow to serve.'
        : `Worker started: ${this.pollers.map((p) => p.definition.slug).join(', ')} ` +
            `(maxConcurrent ${this.settings.maxConcurrent}, batchSize ${this.settings.batchSize}).`,
    );
  }

  /**
   * Stops gracefully; idempotent (every call returns the same promise). No new task is taken;
   * running tasks get up to shutdownTimeoutMs to finish and report; the rest are handed back to the
   * queue (their signal fires); the worker rows are marked stopped.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    if (this.machine.is('created', 'stopped')) {
      if (this.machine.is('created')) this.machine.transition('stopped');
      return;
    }
    this.machine.transition('stopping');
    const deadline = Date.now() + this.settings.shutdownTimeoutMs;
    const heartbeatStopped = this.heartbeat?.stop();
    this.wakeUp?.();
    await this.loopDone;
    await heartbeatStopped;
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe();

    const inFlight = this.running.size;
    if (inFlight > 0) {
      this.logger.log(`Stopping: waiting up to ${this.settings.shutdownTimeoutMs} ms for ${inFlight} running task(s).`);
      await Promise.race([
        Promise.allSettled([...this.running].map((execution) => execution.outcome)),
        delay(Math.max(0, deadline - Date.now())),
      ]);
    }
    const handedBack = await this.handBack([...this.running]);
    // Results need a moment to be stored even when the tasks used all of the shutdown timeout.
    await this.drainResults(Math.max(deadline, Date.now() + 2_000));
    if (this.results.pending > 0) {
      this.logger.warn(
        `Stopped with ${this.results.pending} task result(s) not stored (database unreachable); ` +
          'those tasks will be retried after their timeout.',
      );
    }
    await this.database
      .query(sql.markWorkersStopped, [this.pollers.map((p) => p.workerId)])
      .catch((error: unknown) => this.logger.warn(`Could not mark the worker stopped: ${(error as Error).message}`));
    this.machine.transition('stopped');
    this.logger.log(
      `Worker stopped (${inFlight - handedBack} task(s) finished during shutdown, ${handedBack} handed back).`,
    );
  }

  /** Abandons the executions still running and puts their tasks back in the queue. */
  private async handBack(executions: TaskExecution[]): Promise<number> {
    if (executions.length === 0) return 0;
    const reason = new Error('The worker is shutting down and handed the task back to the queue.');
    for (const execution of executions) execution.abandon(reason);
    let released = 0;
    for (const poller of this.pollers) {
      const ids = executions.filter((e) => e.flowSlug === poller.definition.slug).map((e) => e.task.msg_id);
      if (ids.length === 0) continue;
      try {
        const [row] = await this.database.query<{ released: number }>(sql.releaseTasks, [
          poller.definition.slug,
          ids,
          poller.workerId,
        ]);
        released += row?.released ?? 0;
      } catch (error) {
        this.logger.warn(
          `Could not hand back ${ids.length} task(s) of '${poller.definition.slug}' ` +
            `(${(error as Error).message}); they will be retried after their timeout.`,
        );
      }
    }
    return released;
  }

  private async loop(): Promise<void> {
    let rotation = 0;
    while (this.machine.is('running')) {
      const now = Date.now();
      if (now < this.pausedUntil) {
        await this.sleepUntil(this.pausedUntil);
        continue;
      }
      if (this.roundTrips.size >= MAX_ROUND_TRIPS) {
        await this.sleepUntil(Infinity); // woken when one ends
        continue;
      }
      const free = this.freeSlots();
      // A flow's queue is read by one round trip at a time, or by two when its last read found a backlog.
      const ready = this.pollers.filter((p) => p.claiming === 0 || (p.backlog && p.claiming < MAX_ROUND_TRIPS));
      const due = free > 0 ? ready.filter((p) => p.dueAt <= now) : [];
      // Rotate between due flows so that a busy flow cannot starve the others. Reported results may
      // make their flow's next steps ready: a round trip that reports them also claims for that flow.
      const pending = free > 0 ? this.pollerOfPendingResult() : undefined;
      const poller =
        due.length > 0
          ? due[rotation++ % due.length]
          : pending !== undefined && ready.includes(pending)
            ? pending
            : undefined;
      // Results alone wait for the round trip in flight to end, which then reports them and claims
      // what they made ready in one go; only a batch's worth of them is worth a round trip of its own.
      const reportAlone =
        this.results.pending >= this.settings.batchSize || (this.results.pending > 0 && this.roundTrips.size === 0);
      if (poller === undefined && !reportAlone) {
        await this.sleepUntil(free > 0 ? Math.min(...ready.map((p) => p.dueAt)) : Infinity);
        continue;
      }
      this.launchRoundTrip(poller, poller === undefined ? 0 : Math.min(this.settings.batchSize, free));
    }
    await Promise.allSettled([...this.roundTrips]);
  }

  /** Starts a round trip without waiting for it; its claim's slots are reserved until it ends. */
  private launchRoundTrip(poller: FlowPoller | undefined, quantity: number): void {
    this.reservedSlots += quantity;
    if (poller !== undefined) poller.claiming += 1;
    const trip = this.roundTrip(poller, quantity).finally(() => {
      this.reservedSlots -= quantity;
      if (poller !== undefined) poller.claiming -= 1;
      this.roundTrips.delete(trip);
      this.wakeUp?.();
    });
    this.roundTrips.add(trip);
  }

  /** Reports every pending result and claims up to `quantity` tasks of `poller`'s flow, in one statement. */
  private async roundTrip(poller: FlowPoller | undefined, quantity: number): Promise<void> {
    const results = this.results.take();
    const notified = poller?.notified;
    let rows: ClaimRow[];
    try {
      rows = await this.database.query<ClaimRow>(sql.reportAndClaim, [
        JSON.stringify(results.completions),
        JSON.stringify(results.failures),
        poller?.definition.slug ?? null,
        quantity,
        this.settings.visibilityTimeout,
        poller?.workerId ?? null,
        this.inputs.known(KNOWN_RUNS_PER_CLAIM),
      ]);
    } catch (error) {
      await this.roundTripFailed(error, results, poller);
      return;
    }
    if (this.backoff.attempts > 0) this.logger.log('Database reachable again: the worker resumed.');
    this.backoff.reset();
    if (poller === undefined) return;
    const tasks = rows.filter((row): row is ClaimRow & ClaimedTask => row.run_id !== null);
    poller.backlog = tasks.length > 0 && tasks.length >= quantity;
    if (tasks.length === 0) {
      // Work notified while this read was under way may not have been visible to it: read again.
      poller.dueAt = poller.notified === notified ? nextPollAt(rows[0], this.settings) : 0;
      return;
    }
    poller.dueAt = 0;
    await this.dispatch(poller, tasks);
  }

  private async roundTripFailed(error: unknown, results: Results, poller: FlowPoller | undefined): Promise<void> {
    const reported = results.completions.length + results.failures.length;
    if (isConnectionError(error)) {
      this.results.putBack(results);
      const wait = this.backoff.next();
      this.pausedUntil = Date.now() + wait;
      if (this.backoff.attempts === 1) {
        this.logger.error(`Database unreachable (${(error as Error).message}); retrying with a backoff.`);
      }
      return;
    }
    if (reported > 0) {
      // The engine refused something in the batch: report each result on its own (no claim this time).
      await this.results.isolate(results);
      return;
    }
    const slug = poller?.definition.slug ?? '(none)';
    this.logger.error(`Could not claim tasks of '${slug}': ${(error as Error).message}`, (error as Error).stack);
    if (poller !== undefined) poller.dueAt = Date.now() + this.backoff.next();
  }

  /** The poller of the flow of the oldest result waiting to be reported, if any. */
  private pollerOfPendingResult(): FlowPoller | undefined {
    const slug = this.results.oldestFlowSlug();
    return slug === undefined ? undefined : this.pollers.find((p) => p.definition.slug === slug);
  }

  /** Reports what is left at shutdown, until it is stored or the deadline passes. */
  private async drainResults(deadline: number): Promise<void> {
    while (this.results.pending > 0 && Date.now() < deadline) {
      if (Date.now() < this.pausedUntil) await delay(Math.min(this.pausedUntil, deadline) - Date.now());
      else await this.roundTrip(undefined, 0);
    }
  }

  private async dispatch(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<void> {
    for (const task of tasks) {
      if (task.flow_input !== null) this.inputs.set(task.run_id, task.flow_input);
    }
    await this.fetchMissingInputs(tasks);
    for (const task of tasks) {
      const step = poller.definition.stepsBySlug.get(task.step_slug);
      if (step === undefined) {
        this.results.fail(
          poller.definition.slug,
          task,
          `Step '${task.step_slug}' is not defined in flow class ${poller.definition.className} of this process ` +
            `(flow '${poller.definition.slug}'): the code and the database disagree.`,
        );
        continue;
      }
      const flowInput = this.inputs.has(task.run_id) ? this.inputs.get(task.run_id) : null;
      const execution = new TaskExecution(poller.definition.slug, task, step, flowInput);
      this.running.add(execution);
      void execution.outcome.then((outcome) => this.settled(execution, outcome));
    }
  }

  /** Inputs the engine left out as known but that this worker no longer holds (rare). */
  private async fetchMissingInputs(tasks: readonly ClaimedTask[]): Promise<void> {
    const missing = [
      ...new Set(tasks.filter((t) => t.flow_input === null && !this.inputs.has(t.run_id)).map((t) => t.run_id)),
    ];
    if (missing.length === 0) return;
    const rows = await this.database.query<{ run_id: string; input: unknown }>(sql.runInputs, [missing]);
    for (const row of rows) this.inputs.set(row.run_id, row.input);
  }

  private settled(execution: TaskExecution, outcome: TaskOutcome): void {
    this.running.delete(execution);
    const { task } = execution;
    if (outcome.kind === 'completed') {
      this.results.complete(execution.flowSlug, task, outcome.output);
    } else if (outcome.kind === 'failed') {
      this.results.fail(execution.flowSlug, task, outcome.errorMessage);
      this.logFailure(execution, outcome.errorMessage, outcome.error);
    }
    // A result to report (and a free slot): the next round trip carries it.
    if (outcome.kind !== 'abandoned') this.wakeUp?.();
  }

  /**
   * An attempt that will be retried is a warning (its stack at debug level); the last attempt is an
   * error, with its stack.
   */
  private logFailure(execution: TaskExecution, message: string, error: unknown): void {
    const { task, step } = execution;
    const stack = error instanceof Error ? error.stack : undefined;
    const what = `Step '${task.step_slug}' (task ${task.task_index}) of run ${task.run_id} failed on attempt ${task.attempt}`;
    if (task.attempt < step.effectiveOptions.maxAttempts) {
      this.logger.warn(`${what} of ${step.effectiveOptions.maxAttempts}, will be retried: ${message}`);
      if (stack !== undefined) this.logger.debug(stack);
    } else {
      this.logger.error(`${what}, its last: ${message}`, stack);
    }
  }

  private onWork(queue: string): void {
    const poller = this.pollers.find((p) => p.definition.slug === queue);
    if (poller === undefined) return;
    poller.dueAt = 0;
    poller.notified += 1;
    this.wakeUp?.();
  }

  private wakeAll(): void {
    for (const poller of this.pollers) {
      poller.dueAt = 0;
      poller.notified += 1;
    }
    this.wakeUp?.();
  }

  private freeSlots(): number {
    return this.settings.maxConcurrent - this.running.size - this.reservedSlots;
  }

  private sleepUntil(epochMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(epochMs) ? setTimeout(done, Math.max(0, epochMs - Date.now())) : undefined;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
