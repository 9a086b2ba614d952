import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** No run with this id exists (or it was deleted with its flow). */
export class RunNotFoundError extends PgflowError {
  override readonly name = 'RunNotFoundError';
  readonly runId: string;

  constructor(runId: string) {
    super(
      PgflowErrorCode.RunNotFound,
      `No run with id '${runId}' exists in pgflow.runs. Check the id (as returned by FlowClient.start()), and ` +
        'that this application uses the database the run was started in.',
    );
    this.runId = runId;
  }
}
