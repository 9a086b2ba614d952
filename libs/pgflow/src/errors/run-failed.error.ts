import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';
import { endSentence } from './sentence.ts';

/** A run that ended in `failed`: what `wait()` rejects with. */
export class RunFailedError extends PgflowError {
  override readonly name = 'RunFailedError';
  readonly runId: string;
  /** The step whose failure failed the run, when the engine recorded one. */
  readonly stepSlug: string | null;
  /** The failed step's (or run's) error message, as stored by the engine. */
  readonly errorMessage: string | null;

  constructor(runId: string, stepSlug: string | null, errorMessage: string | null) {
    const where = stepSlug === null ? '' : ` at step '${stepSlug}'`;
    const why = errorMessage === null ? '' : `: ${errorMessage}`;
    super(
      PgflowErrorCode.RunFailed,
      `${endSentence(`Run '${runId}' failed${where}${why}`)} Its step states and tasks (FlowClient.getRun('${runId}')) hold ` +
        'the errors of every attempt.',
    );
    this.runId = runId;
    this.stepSlug = stepSlug;
    this.errorMessage = errorMessage;
  }
}
