import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** The task a timeout was about: which run, step and task, and which attempt. */
export interface TimedOutTask {
  readonly runId: string;
  readonly stepSlug: string;
  readonly taskIndex: number;
  readonly attempt: number;
  /** The step's timeout, in seconds. */
  readonly timeoutSeconds: number;
}

/**
 * A task's attempt ran past its step's timeout: the handler's `ctx.signal` fires with this error and
 * the attempt fails with its message (retried while attempts remain). The handler is not stopped
 * by force; it should watch the signal.
 */
export class TaskTimeoutError extends PgflowError {
  override readonly name = 'TaskTimeoutError';
  readonly runId: string;
  readonly stepSlug: string;
  readonly taskIndex: number;
  readonly attempt: number;
  readonly timeoutSeconds: number;

  constructor(task: TimedOutTask) {
    // The message is stored as the attempt's error (step_tasks.error_message): it names the step and
    // the timeout; the run, task and attempt are the row's own columns.
    super(
      PgflowErrorCode.TaskTimeout,
      `Step '${task.stepSlug}' did not finish within its timeout of ${task.timeoutSeconds} s.`,
    );
    this.runId = task.runId;
    this.stepSlug = task.stepSlug;
    this.taskIndex = task.taskIndex;
    this.attempt = task.attempt;
    this.timeoutSeconds = task.timeoutSeconds;
  }
}
