import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** `FlowClient.start()` was given a runId that another run already has; nothing was started. */
export class RunAlreadyExistsError extends PgflowError {
  override readonly name = 'RunAlreadyExistsError';
  readonly runId: string;

  constructor(runId: string, options: { cause?: unknown } = {}) {
    super(
      PgflowErrorCode.RunAlreadyExists,
      `A run with id '${runId}' already exists; no run was started. Pass a new runId (e.g. crypto.randomUUID()), ` +
        'or none to let the engine choose one. To make a start idempotent, look the run up with ' +
        'FlowClient.getRun(runId) when this error is thrown.',
      options,
    );
    this.runId = runId;
  }
}
