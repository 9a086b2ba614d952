import type { StepDefinition } from '../definition/flow-definition.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import { TaskTimeoutError } from '../errors/task-timeout.error.ts';
import { toStepOutputJson } from '../json/to-json-value.ts';
import type { StepContext } from '../types/step-context.ts';
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
 * One task in flight: runs the step's handler with the task's input and context, and settles into
 * a {@link TaskOutcome} exactly once, whichever comes first: the handler's result, the step's timeout
 * (the signal fires, the attempt fails), or the worker abandoning it at shutdown (the signal fires,
 * the task is handed back). A handler that finishes after that is ignored.
 */
export class TaskExecution {
  readonly outcome: Promise<TaskOutcome>;
  private readonly controller = new AbortController();
  private settle!: (outcome: TaskOutcome) => void;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly flowSlug: string,
    readonly task: ClaimedTask,
    readonly step: StepDefinition,
    flowInput: unknown,
  ) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    const context: StepContext = {
      runId: task.run_id,
      flowSlug,
      stepSlug: task.step_slug,
      taskIndex: task.task_index,
      attempt: task.attempt,
      flowInput,
      signal: this.controller.signal,
      kind: step.stepType,
    };
    // A root single step gets the flow input; a dependent one the object of its dependencies'
    // outputs; a map step its element (the engine prepares the last two).
    const input = step.stepType === 'single' && step.dependsOn.length === 0 ? flowInput : task.input;

    this.timer = setTimeout(() => {
      const error = new TaskTimeoutError({
        runId: task.run_id,
        stepSlug: step.slug,
        taskIndex: task.task_index,
        attempt: task.attempt,
        timeoutSeconds: task.timeout_seconds,
      });
      this.finish({ kind: 'failed', errorMessage: error.message, error }, error);
    }, task.timeout_seconds * 1000);

    Promise.resolve()
      .then(() => step.handler(input, context))
      .then(
        (value) => {
          try {
            this.finish({ kind: 'completed', output: toStepOutputJson(value) });
          } catch (error) {
            const message =
              error instanceof NotJsonError
                ? `Step '${step.slug}' returned a value that is not JSON: ${error.message}`
                : describeThrown(error);
            this.finish({ kind: 'failed', errorMessage: message, error });
          }
        },
        (thrown: unknown) => this.finish({ kind: 'failed', errorMessage: describeThrown(thrown), error: thrown }),
      );
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Stops waiting for the handler: its signal fires and the outcome is 'abandoned'. */
  abandon(reason: Error): void {
    this.finish({ kind: 'abandoned' }, reason);
  }

  private finish(outcome: TaskOutcome, abortReason?: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    if (abortReason !== undefined) this.controller.abort(abortReason);
    this.settle(outcome);
  }
}
