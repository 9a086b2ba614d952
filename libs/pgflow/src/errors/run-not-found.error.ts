import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** No run with this id exists (or it was deleted with its flow). */
export class RunNotFoundError extends PgflowError {
  override readonly name = 'RunNotFoundError';
  readonly runId: string;

  /**
   * @param registrations the registrations whose databases were searched, when the application has
   *   several (PgflowModule registered once per DataSource)
   */
  constructor(runId: string, registrations?: readonly string[]) {
    const where =
      registrations === undefined
        ? 'in pgflow.runs'
        : `in the database of any PgflowModule registration (${registrations.map((name) => `'${name}'`).join(', ')})`;
    super(
      PgflowErrorCode.RunNotFound,
      `No run with id '${runId}' exists ${where}. Check the id (as returned by FlowClient.start()), and ` +
        'that this application uses the database the run was started in.',
    );
    this.runId = runId;
  }
}
