import { PgflowError, PgflowErrorCode, type PgflowErrorOptions } from './pgflow.error.ts';

/**
 * Thrown by a step handler: the task fails at once, without its remaining attempts (a validation
 * error, a permanent refusal: trying again would fail again). The step's `whenExhausted` then
 * applies as for a task that used up its attempts. Any error whose `retryable` is `false` does the
 * same.
 */
export class NonRetryableError extends PgflowError {
  override readonly name = 'NonRetryableError';
  readonly retryable = false;

  constructor(message: string, options: PgflowErrorOptions = {}) {
    super(PgflowErrorCode.NonRetryable, message, options);
  }
}

/** Whether a handler's error asks not to be retried (NonRetryableError, or `retryable: false`). */
export function isNonRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;
}
