import { PgflowError, PgflowErrorCode, type PgflowErrorOptions } from './pgflow.error.ts';

/**
 * FlowClient.retry() refused: the run is in progress (or completed, without `fromStep`), `fromStep`
 * names no step of its flow, or the flow's steps changed since the run started. Nothing changed.
 */
export class RunNotRetryableError extends PgflowError {
  override readonly name = 'RunNotRetryableError';
  readonly runId: string;
  /** The engine's SQLSTATE: PF013 (run state), PF014 (unknown fromStep) or PF015 (flow changed). */
  readonly reason: 'run-state' | 'unknown-step' | 'flow-changed';

  constructor(
    runId: string,
    reason: RunNotRetryableError['reason'],
    engineMessage: string,
    hint: string | undefined,
    options: PgflowErrorOptions = {},
  ) {
    super(PgflowErrorCode.RunNotRetryable, hint === undefined ? engineMessage : `${engineMessage} ${hint}`, options);
    this.runId = runId;
    this.reason = reason;
  }
}
