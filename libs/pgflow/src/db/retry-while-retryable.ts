import { Backoff } from '../support/backoff.ts';
import { sleep } from '../support/sleep.ts';
import { isRetryableError } from './sql-state.ts';

/**
 * Runs `attempt` until it succeeds. A failure for a reason that may pass (the connection, a lock or
 * statement timeout: isRetryableError) is tried again with a backoff for up to `retryForMs`, unless
 * `signal` aborts; any other failure, or the last one, is thrown.
 */
export async function retryWhileRetryable<T>(
  attempt: () => Promise<T>,
  retryForMs: number,
  signal: AbortSignal,
): Promise<T> {
  const backoff = new Backoff(100, 2_000);
  const giveUpAt = Date.now() + retryForMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryableError(error) || Date.now() >= giveUpAt || signal.aborted) throw error;
      await sleep(backoff.next(), signal);
    }
  }
}
