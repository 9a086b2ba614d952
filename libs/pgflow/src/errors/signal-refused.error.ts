import { PgflowError, PgflowErrorCode, type PgflowErrorOptions } from './pgflow.error.ts';

/** Why the engine refused a signal (pgflow.send_signal's SQLSTATE). */
export type SignalRefusal =
  /** PF040: the run has ended (completed, failed or cancelled). */
  | 'run-ended'
  /** PF041: no step of the run's flow waits for a signal of this name. */
  | 'unknown-signal'
  /** PF042: the run already received a signal of this name; the first payload stands. */
  | 'duplicate'
  /** PF043: the step waiting for it ended without it (skipped by its condition, or its signal timeout passed). */
  | 'step-ended';

/** FlowClient.signal() refused by the engine; nothing changed. `reason` says why. */
export class SignalRefusedError extends PgflowError {
  override readonly name = 'SignalRefusedError';
  readonly runId: string;
  readonly signalName: string;
  readonly reason: SignalRefusal;

  constructor(
    runId: string,
    signalName: string,
    reason: SignalRefusal,
    engineMessage: string,
    hint: string | undefined,
    options: PgflowErrorOptions = {},
  ) {
    super(PgflowErrorCode.SignalRefused, hint === undefined ? engineMessage : `${engineMessage} ${hint}`, options);
    this.runId = runId;
    this.signalName = signalName;
    this.reason = reason;
  }
}
