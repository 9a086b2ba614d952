import type { Logger } from '@nestjs/common';
import type { StepDefinition } from '../definition/flow-definition.ts';
import { isNonRetryable } from '../errors/non-retryable.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import type { RunCancelledError } from '../errors/run-cancelled.error.ts';
import { TaskTimeoutError } from '../errors/task-timeout.error.ts';
import { toStepOutputJson } from '../json/to-json-value.ts';
import { jsonBytes, outputTooLargeMessage } from '../limits/payload-limits.ts';
import { LongTimeout } from '../support/long-timeout.ts';
import type { StepContext } from '../types/step-context.ts';
import { childRunInput } from './child-runs.ts';
import { describeThrown, type TaskOutcome } from './task-outcome.ts';

/** A task the worker claimed, as pgflow._claim_tasks returns it. */
export interface ClaimedTask {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  /** bigint, as text. */
  readonly msg_id: string;
  readonly input: unknown;
  /** Null when the worker already holds the run's input (see FlowInputCache). */
  readonly flow_input: unknown;
  readonly attempt: number;
  readonly timeout_seconds: number;
}

/**
 * What a step's handler gets as input: a root single step the flow input; a dependent one the
 * object of its dependencies' outputs; a map step its element; a signal step the signal's payload
 * (the engine prepares the last three).
 */
export function handlerInput(step: StepDefinition, task: ClaimedTask, flowInput: unknown): unknown {
  if (step.signal !== null) return signalTaskInput(task).payload;
  return step.stepType === 'single' && step.dependsOn.length === 0 ? flowInput : task.input;
}

/** A signal step's task input as the engine prepares it: the signal's payload and the dependencies' outputs. */
function signalTaskInput(task: ClaimedTask): { payload: unknown; deps: Record<string, unknown> } {
  const input = task.input as { payload?: unknown; deps?: Record<string, unknown> } | null;
  return { payload: input?.payload ?? null, deps: input?.deps ?? {} };
}

/**
 * One task in flight: runs the step's handler with the task's input and context, and settles into
 * a {@link TaskOutcome} exactly once, whichever comes first: the handler's result, the step's timeout
 * (the signal fires, the attempt fails), or the worker abandoning it at shutdown (the signal fires,
 * the task is handed back). A handler that finishes after that is ignored. JavaScript cannot stop a
 * handler that does not stop itself, so one still running after its timeout is logged: a warning
 * then, and a line when it finally settles.
 */
export class TaskExecution {
  readonly outcome: Promise<TaskOutcome>;
  /**
   * The handler's ctx.signal, made when the handler first reads it: most never do, and an
   * AbortController is one of the costlier objects a task would make (about 3 µs, an EventTarget).
   */
  private controller: AbortController | undefined;
  /** Why the signal fired (or fires as soon as it is made): set when the task settled with a reason. */
  private abortReason: Error | undefined;
  private settle!: (outcome: TaskOutcome) => void;
  private settled = false;
  private timer: LongTimeout | undefined;
  private handlerRunning = true;
  /** When the timeout fired while the handler was running and kept running (epoch ms). */
  private overranSince: number | undefined;

  constructor(
    readonly flowSlug: string,
    readonly task: ClaimedTask,
    readonly step: StepDefinition,
    flowInput: unknown,
    private readonly logger: Logger,
    maxOutputBytes?: number,
  ) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    const execution = this;
    const context: StepContext & { deps?: unknown } = {
      runId: task.run_id,
      flowSlug,
      stepSlug: task.step_slug,
      taskIndex: task.task_index,
      attempt: task.attempt,
      flowInput,
      get signal() {
        return execution.signal;
      },
      kind: step.stepType,
      ...(step.signal === null ? {} : { deps: signalTaskInput(task).deps }),
    };
    const input = handlerInput(step, task, flowInput);

    // A step's timeout may be up to a year: longer than one Node.js timer can wait.
    this.timer = new LongTimeout(() => {
      const error = new TaskTimeoutError({
        runId: task.run_id,
        stepSlug: step.slug,
        taskIndex: task.task_index,
        attempt: task.attempt,
        timeoutSeconds: task.timeout_seconds,
      });
      this.finish({ kind: 'failed', errorMessage: error.message, error }, error);
      // The abort event is dispatched synchronously: a handler that stops on it has settled before
      // the next turn of the event loop. One still running then did not look at its signal.
      setImmediate(() => this.warnIfStillRunning());
    }, task.timeout_seconds * 1000);

    Promise.resolve()
      .then(() => step.handler(input, context))
      .finally(() => this.handlerSettled())
      .then(
        (value) => {
          try {
            // A subflow step's value is its child run's input (see ChildRunStarter).
            const output = toStepOutputJson(step.subflow === null ? value : childRunInput(step, value));
            const bytes = maxOutputBytes === undefined ? 0 : jsonBytes(output);
            if (maxOutputBytes !== undefined && bytes > maxOutputBytes) {
              const message = outputTooLargeMessage(step.slug, bytes, maxOutputBytes);
              this.finish({ kind: 'failed', errorMessage: message, error: new Error(message) });
              return;
            }
            this.finish({ kind: 'completed', output });
          } catch (error) {
            const message =
              error instanceof NotJsonError
                ? `Step '${step.slug}' returned a value that is not JSON: ${error.message}`
                : describeThrown(error);
            this.finish({ kind: 'failed', errorMessage: message, error, retryable: !isNonRetryable(error) });
          }
        },
        (thrown: unknown) =>
          this.finish({
            kind: 'failed',
            errorMessage: describeThrown(thrown),
            error: thrown,
            retryable: !isNonRetryable(thrown),
          }),
      );
  }

  /** The handler's abort signal; already aborted when the task settled with a reason before it was read. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /**
   * The run was cancelled: the handler's signal fires with `reason` (a RunCancelledError) and the
   * outcome is 'cancelled', nothing reported. A handler that goes on anyway is ignored.
   */
  cancel(reason: RunCancelledError): void {
    this.finish({ kind: 'cancelled' }, reason);
  }

  /** Stops waiting for the handler: its signal fires and the outcome is 'abandoned'. */
  abandon(reason: Error): void {
    this.finish({ kind: 'abandoned' }, reason);
  }

  private warnIfStillRunning(): void {
    if (!this.handlerRunning) return;
    this.overranSince = Date.now();
    this.logger.warn(
      `${this.describe()} timed out after ${this.task.timeout_seconds} s and its handler is still running: ` +
        'it ignored ctx.signal. The attempt is reported as failed and its slot is free; whatever the handler ' +
        'returns now is ignored. Make the handler stop when ctx.signal fires (pass it on to fetch, queries, timers).',
    );
  }

  private handlerSettled(): void {
    this.handlerRunning = false;
    if (this.overranSince === undefined) return;
    const late = ((Date.now() - this.overranSince) / 1000).toFixed(1);
    this.logger.log(`${this.describe()}: its handler finished ${late} s after its timeout; its result is ignored.`);
  }

  private describe(): string {
    return `Step '${this.task.step_slug}' (task ${this.task.task_index}) of run ${this.task.run_id}`;
  }

  private finish(outcome: TaskOutcome, abortReason?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.timer?.clear();
    if (abortReason !== undefined) {
      this.abortReason = abortReason;
      this.controller?.abort(abortReason);
    }
    this.settle(outcome);
  }
}
