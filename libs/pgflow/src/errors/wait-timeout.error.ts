import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** `wait()` gave up before the run ended. The run itself goes on. */
export class WaitTimeoutError extends PgflowError {
  override readonly name = 'WaitTimeoutError';
  readonly runId: string;
  readonly timeoutMs: number;

  constructor(runId: string, timeoutMs: number) {
    super(
      PgflowErrorCode.WaitTimeout,
      `Run '${runId}' did not finish within ${timeoutMs} ms of waiting. The run is not cancelled: wait again ` +
        '(FlowClient.wait(runId)) or pass a larger timeoutMs; check that a worker serves its flow.',
    );
    this.runId = runId;
    this.timeoutMs = timeoutMs;
  }
}
