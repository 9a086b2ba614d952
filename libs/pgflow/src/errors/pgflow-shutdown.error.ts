import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** The application is shutting down: a wait for a run was given up (the run itself goes on). */
export class PgflowShutdownError extends PgflowError {
  override readonly name = 'PgflowShutdownError';
  readonly runId: string;

  constructor(runId: string) {
    super(
      PgflowErrorCode.ShuttingDown,
      `The application is shutting down: stopped waiting for run '${runId}'. The run itself goes on; ` +
        `wait for it again with FlowClient.wait('${runId}') from a running application.`,
    );
    this.runId = runId;
  }
}
