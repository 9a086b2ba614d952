import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { retryWhileRetryable } from '../db/retry-while-retryable.ts';
import type { StepDefinition } from '../definition/flow-definition.ts';
import { RunCancelledError } from '../errors/run-cancelled.error.ts';
import { startTaskAttempt, tracingActive } from '../telemetry/pgflow-telemetry.ts';
import { CancelledRuns } from './cancelled-runs.ts';
import { ChildRunStarter } from './child-runs.ts';
import { DurableSleep, type SleepDecision } from './durable-sleep.ts';
import { FlowInputCache } from './flow-input-cache.ts';
import type { FlowPoller } from './flow-poller.ts';
import type { ResultBuffer } from './result-buffer.ts';
import { type ClaimedTask, handlerInput, TaskExecution } from './task-execution.ts';
import type { TaskOutcome } from './task-outcome.ts';

/** How many recently seen runs a claim names as known (their input is not sent again). */
export const KNOWN_RUNS_PER_CLAIM = 32;

/**
 * How long a failing read of run inputs is tried again before the tasks are handed back. The tasks
 * are started in the engine meanwhile, and the stall sweep may give a task to another worker 30 s
 * after its timeout: a handler that starts within 30 s of the claim times out here before that, and
 * 20 s leaves room for the hand-back itself.
 */
const INPUT_READ_RETRY_MS = 20_000;

/**
 * Turns claimed tasks into running {@link TaskExecution}s and keeps track of them until they
 * settle: it gives each task its run's input (from the claim, from the cache of recent runs, or read
 * from pgflow.runs when the engine left it out as known but the cache no longer holds it), puts each
 * outcome in the ResultBuffer (logging failures), and at shutdown abandons the executions still
 * running and hands their tasks back to the queue.
 */
export class TaskDispatcher {
  private readonly running = new Set<TaskExecution>();
  /** The tasks of each dispatch() under way (their inputs read, their sleep decided, before they run). */
  private readonly dispatching = new Set<readonly ClaimedTask[]>();
  /** Runs cancelled lately: a task of one that a claim delivers is not started. */
  private readonly cancelled: CancelledRuns;
  private readonly inputs: FlowInputCache;
  /** The trace contexts of recent runs (null: none), read only while tracing is active. */
  private readonly traceContexts: FlowInputCache;
  /** Fires at shutdown: reads of run inputs are not tried again. */
  private readonly stopping = new AbortController();
  private readonly durableSleep: DurableSleep;
  private readonly childRuns: ChildRunStarter;

  /**
   * @param onSettled called when an execution settled with a result to report (and a free slot), or
   *   when a queue is to be read again at once (tasks put to sleep): wakes the worker's loop.
   */
  constructor(
    private readonly database: PgflowDatabase,
    private readonly results: ResultBuffer,
    private readonly logger: Logger,
    batchSize: number,
    /** The process's limit on an output's JSON (PgflowModule limits.maxOutputBytes), if any. */
    private readonly maxOutputBytes: number | undefined,
    private readonly onSettled: () => void,
  ) {
    this.inputs = new FlowInputCache(Math.max(256, batchSize + 2 * KNOWN_RUNS_PER_CLAIM));
    this.durableSleep = new DurableSleep(database, this.stopping.signal, INPUT_READ_RETRY_MS);
    this.childRuns = new ChildRunStarter(database, results, logger, this.stopping.signal, INPUT_READ_RETRY_MS);
    this.cancelled = new CancelledRuns(database, logger);
    this.traceContexts = new FlowInputCache(Math.max(256, batchSize + 2 * KNOWN_RUNS_PER_CLAIM));
  }

  /** How many tasks are running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** The runs a claim names as known: their input is not sent again. */
  knownRunIds(): string[] {
    return this.inputs.known(KNOWN_RUNS_PER_CLAIM);
  }

  /**
   * Resolves when every running execution settled (its outcome is in), whatever it was, and every
   * child run start of a subflow step is over.
   */
  async allSettled(): Promise<void> {
    await Promise.allSettled([...this.running].map((execution) => execution.outcome));
    await this.childRuns.allSettled();
  }

  /** The worker is shutting down: a failing read of run inputs is not tried again. */
  stop(): void {
    this.stopping.abort();
  }

  /**
   * Starts the tasks a round trip claimed for `poller`'s flow. Never rejects: a task whose run
   * input cannot be read goes back to the queue.
   */
  async dispatch(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<void> {
    this.dispatching.add(tasks);
    try {
      await this.dispatchNow(poller, tasks);
    } finally {
      this.dispatching.delete(tasks);
    }
  }

  /** Adds the runs of the tasks being started or running here to `runIds`. */
  addHeldRunIds(runIds: Set<string>): void {
    for (const tasks of this.dispatching) for (const task of tasks) runIds.add(task.run_id);
    for (const execution of this.running) runIds.add(execution.task.run_id);
  }

  private async dispatchNow(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<void> {
    for (const task of tasks) {
      if (task.flow_input !== null) this.inputs.set(task.run_id, task.flow_input);
    }
    const failure = await this.fetchMissingInputs(tasks);
    const unread =
      failure === undefined ? [] : tasks.filter((t) => t.flow_input === null && !this.inputs.has(t.run_id));
    if (unread.length > 0) await this.handBackUnread(poller, unread, failure);
    if (tracingActive()) await this.fetchTraceContexts(tasks);
    await this.cancelled.forgetRetried(tasks);
    const known: ClaimedTask[] = [];
    const unknown: ClaimedTask[] = [];
    for (const task of tasks) {
      if (unread.includes(task) || this.cancelled.has(task.run_id)) continue;
      if (poller.definition.stepsBySlug.has(task.step_slug)) known.push(task);
      else unknown.push(task);
    }
    for (const task of await this.wakeOrSleep(poller, known)) this.start(poller, task);
    if (unknown.length > 0) await this.retire(poller, unknown);
  }

  /**
   * Durable sleep: of the tasks of steps with `delayUntil`, only those whose time has come run now;
   * the engine puts the others back to sleep. Returns the tasks to start, in their order.
   */
  private async wakeOrSleep(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<ClaimedTask[]> {
    const { definition } = poller;
    const sleepers = tasks.filter((task) => definition.stepsBySlug.get(task.step_slug)?.delayUntil);
    if (sleepers.length === 0) return [...tasks];
    const candidates = sleepers.map((task) => {
      const step = definition.stepsBySlug.get(task.step_slug) as StepDefinition;
      const flowInput = this.inputs.has(task.run_id) ? this.inputs.get(task.run_id) : null;
      return { task, step, input: handlerInput(step, task, flowInput) };
    });
    let decision: SleepDecision;
    try {
      decision = await this.durableSleep.decide(definition.slug, poller.workerId, candidates);
    } catch (error) {
      this.logger.error(
        `Could not put ${sleepers.length} task(s) of '${definition.slug}' to sleep (delayUntil): ` +
          `${(error as Error)?.message}; handing them back to the queue.`,
        (error as Error)?.stack,
      );
      await this.release(
        poller,
        sleepers.map((task) => task.msg_id),
      );
      return tasks.filter((task) => !sleepers.includes(task));
    }
    for (const { task, message } of decision.invalid) {
      this.results.fail(definition.slug, task, message, false);
      this.logger.error(`Step '${task.step_slug}' (task ${task.task_index}) of run ${task.run_id}: ${message}`);
    }
    if (decision.asleep > 0) {
      // The queue is read again at once: that read says when the first of them wakes, and the
      // worker reads again then, not at the end of its longest wait (maxPollSeconds).
      poller.dueAt = 0;
    }
    if (decision.invalid.length > 0 || decision.asleep > 0) this.onSettled();
    return tasks.filter((task) => !sleepers.includes(task) || decision.runNow.includes(task));
  }

  /**
   * The flow in the database has steps this process does not know: another deployment changed it
   * while this one runs. Running their tasks would burn their attempts ('not defined'), so they go
   * back to the queue untouched (no attempt counted) and this worker stops serving the flow; the
   * processes with the new code run them.
   */
  private async retire(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<void> {
    const steps = [...new Set(tasks.map((t) => t.step_slug))];
    const firstTime = !poller.retired;
    poller.retired = true;
    await this.release(
      poller,
      tasks.map((t) => t.msg_id),
    );
    if (firstTime) {
      this.logger.error(
        `Flow '${poller.definition.slug}' in the database has step(s) ${steps.map((s) => `'${s}'`).join(', ')} that ` +
          `class ${poller.definition.className} of this process does not define: another deployment changed the ` +
          'flow. This worker stopped serving it and handed its tasks back untouched; deploy the new code to this ' +
          'process to serve it again.',
      );
    }
  }

  /** The runs of the tasks running now. */
  runningRunIds(): string[] {
    return [...new Set([...this.running].map((execution) => execution.task.run_id))];
  }

  /**
   * The run was cancelled (the engine says so): the handlers of its tasks running here see their
   * signal abort with a RunCancelledError, and a task of it claimed later is not started.
   */
  cancelRun(runId: string, reason: string | null): number {
    this.cancelled.remember(runId);
    let aborted = 0;
    for (const execution of this.running) {
      if (execution.task.run_id.toLowerCase() !== runId.toLowerCase()) continue;
      execution.cancel(new RunCancelledError(runId, reason));
      aborted += 1;
    }
    return aborted;
  }

  /**
   * Abandons the executions still running (their signal fires) and puts their tasks back in the
   * queue. Returns how many tasks the engine took back.
   */
  async handBack(pollers: readonly FlowPoller[]): Promise<number> {
    const executions = [...this.running];
    if (executions.length === 0) return 0;
    const reason = new Error('The worker is shutting down and handed the task back to the queue.');
    for (const execution of executions) execution.abandon(reason);
    let released = 0;
    for (const poller of pollers) {
      const ids = executions.filter((e) => e.flowSlug === poller.definition.slug).map((e) => e.task.msg_id);
      if (ids.length > 0) released += await this.release(poller, ids);
    }
    return released;
  }

  /**
   * Reads the inputs the engine left out as known but that this worker no longer holds (rare).
   * A read that failed for a reason that may pass (the connection, a lock or statement timeout) is
   * tried again with a backoff for a while; returns the error of the last read if none succeeded.
   */
  private async fetchMissingInputs(tasks: readonly ClaimedTask[]): Promise<unknown> {
    const missing = [
      ...new Set(tasks.filter((t) => t.flow_input === null && !this.inputs.has(t.run_id)).map((t) => t.run_id)),
    ];
    if (missing.length === 0) return undefined;
    try {
      const rows = await retryWhileRetryable(
        () => this.database.query<{ run_id: string; input: unknown }>(sql.runInputs, [missing]),
        INPUT_READ_RETRY_MS,
        this.stopping.signal,
      );
      for (const row of rows) this.inputs.set(row.run_id, row.input);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /**
   * Reads the trace contexts of the runs of `tasks` this worker has not seen (one statement, only
   * while a tracer provider is registered). A failed read costs the spans their parent, nothing else.
   */
  private async fetchTraceContexts(tasks: readonly ClaimedTask[]): Promise<void> {
    const unseen = [...new Set(tasks.map((t) => t.run_id).filter((runId) => !this.traceContexts.has(runId)))];
    if (unseen.length === 0) return;
    try {
      const rows = await this.database.query<{ run_id: string; trace_context: string }>(sql.runTraceContexts, [unseen]);
      const found = new Map(rows.map((row) => [row.run_id, row.trace_context]));
      for (const runId of unseen) this.traceContexts.set(runId, found.get(runId) ?? null);
    } catch (error) {
      this.logger.debug(`Could not read the trace context of run(s) ${unseen.join(', ')}: ${(error as Error).message}`);
    }
  }

  /**
   * Puts back in the queue the tasks whose run input could not be read. The next claim of one of
   * them carries the input: this worker no longer names their runs as known.
   */
  private async handBackUnread(poller: FlowPoller, tasks: readonly ClaimedTask[], error: unknown): Promise<void> {
    const runs = [...new Set(tasks.map((t) => t.run_id))];
    this.logger.error(
      `Could not read the input of run(s) ${runs.join(', ')} for ${tasks.length} claimed task(s) of ` +
        `'${poller.definition.slug}' (${(error as Error)?.message}); handing them back to the queue.`,
      (error as Error)?.stack,
    );
    await this.release(
      poller,
      tasks.map((t) => t.msg_id),
    );
  }

  /** Hands claimed tasks that will not run here back to the queue, untouched (no attempt counted). */
  handBackClaimed(poller: FlowPoller, tasks: readonly ClaimedTask[]): Promise<number> {
    return this.release(
      poller,
      tasks.map((task) => task.msg_id),
    );
  }

  /** Hands tasks of `poller`'s flow back to the queue; returns how many the engine took back. */
  private async release(poller: FlowPoller, msgIds: readonly string[]): Promise<number> {
    try {
      const [row] = await this.database.query<{ released: number }>(sql.releaseTasks, [
        poller.definition.slug,
        msgIds,
        poller.workerId,
      ]);
      return row?.released ?? 0;
    } catch (error) {
      this.logger.warn(
        `Could not hand back ${msgIds.length} task(s) of '${poller.definition.slug}' ` +
          `(${(error as Error).message}); they will be retried after their timeout.`,
      );
      return 0;
    }
  }

  private start(poller: FlowPoller, task: ClaimedTask): void {
    const step = poller.definition.stepsBySlug.get(task.step_slug) as StepDefinition;
    const flowInput = this.inputs.has(task.run_id) ? this.inputs.get(task.run_id) : null;
    const traceContext = this.traceContexts.has(task.run_id)
      ? (this.traceContexts.get(task.run_id) as string | null)
      : null;
    const telemetry = startTaskAttempt(poller.definition.slug, task, traceContext);
    const execute = () =>
      new TaskExecution(poller.definition.slug, task, step, flowInput, this.logger, this.maxOutputBytes);
    // The handler runs inside the attempt's span: spans it makes are the attempt's children.
    const execution = telemetry === undefined ? execute() : telemetry.run(execute);
    this.running.add(execution);
    void execution.outcome.then((outcome) => {
      telemetry?.end(outcome);
      this.settled(execution, outcome);
    });
  }

  private settled(execution: TaskExecution, outcome: TaskOutcome): void {
    this.running.delete(execution);
    const { task } = execution;
    if (outcome.kind === 'completed' && execution.step.subflow !== null) {
      // A subflow step: the output is its child run's input; the task waits for that run.
      this.childRuns.start(execution.flowSlug, task, execution.step, outcome.output, () => this.onSettled());
      return;
    }
    if (outcome.kind === 'completed') {
      this.results.complete(execution.flowSlug, task, outcome.output);
    } else if (outcome.kind === 'failed') {
      const retryable = outcome.retryable !== false;
      this.results.fail(execution.flowSlug, task, outcome.errorMessage, retryable);
      this.logFailure(execution, outcome.errorMessage, outcome.error, retryable);
    } else if (outcome.kind === 'cancelled') {
      this.logger.log(
        `Step '${task.step_slug}' (task ${task.task_index}) of run ${task.run_id}: the run was cancelled; ` +
          'its handler was told through ctx.signal.',
      );
    }
    // A result to report, or a free slot: the next round trip carries it, or claims for it.
    if (outcome.kind !== 'abandoned') this.onSettled();
  }

  /**
   * An attempt that will be retried is a warning (its stack at debug level); the last attempt is an
   * error, with its stack.
   */
  private logFailure(execution: TaskExecution, message: string, error: unknown, retryable: boolean): void {
    const { task, step } = execution;
    const stack = error instanceof Error ? error.stack : undefined;
    const what = `Step '${task.step_slug}' (task ${task.task_index}) of run ${task.run_id} failed on attempt ${task.attempt}`;
    if (!retryable) {
      this.logger.error(`${what} with an error that is not retried (NonRetryableError): ${message}`, stack);
    } else if (task.attempt < step.effectiveOptions.maxAttempts) {
      this.logger.warn(`${what} of ${step.effectiveOptions.maxAttempts}, will be retried: ${message}`);
      if (stack !== undefined) this.logger.debug(stack);
    } else {
      this.logger.error(`${what}, its last: ${message}`, stack);
    }
  }
}
