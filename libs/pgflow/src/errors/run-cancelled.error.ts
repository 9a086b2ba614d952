import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * A run that was cancelled (FlowClient.cancel, pgflow.cancel_run): what `wait()` rejects with, and
 * the reason of `ctx.signal` in the handlers of the run that were executing.
 */
export class RunCancelledError extends PgflowError {
  override readonly name = 'RunCancelledError';
  readonly runId: string;
  /** The reason given to cancel(), if any. */
  readonly reason: string | null;

  constructor(runId: string, reason: string | null = null) {
    super(
      PgflowErrorCode.RunCancelled,
      `Run '${runId}' was cancelled${reason === null ? '' : `: ${reason}`}. ` +
        `FlowClient.retry('${runId}') runs what it had left to do.`,
    );
    this.runId = runId;
    this.reason = reason;
  }
}
