import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** `FlowClient.start()` or `startMany()` was given a run id that another run already has; nothing was started. */
export class RunAlreadyExistsError extends PgflowError {
  override readonly name = 'RunAlreadyExistsError';
  /**
   * The run id that exists. Null when `startMany()` could not tell which of its `runIds` it is: a
   * run started earlier in the caller's own transaction, which no other connection can see yet.
   */
  readonly runId: string | null;

  constructor(runId: string | null, options: { cause?: unknown } = {}) {
    const which =
      runId === null
        ? 'One of the runIds given to startMany() is the id of a run started earlier in the same transaction'
        : `A run with id '${runId}' already exists`;
    super(
      PgflowErrorCode.RunAlreadyExists,
      `${which}; no run was started. Pass a new runId (e.g. crypto.randomUUID()), ` +
        'or none to let the engine choose one. To make a start idempotent, look the run up with ' +
        'FlowClient.getRun(runId) when this error is thrown.',
      options,
    );
    this.runId = runId;
  }
}
