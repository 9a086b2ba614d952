/**
 * Waiting for a condition with a deadline, the harness's only way to wait: tests never sleep a
 * fixed time.
 */
export interface WaitForOptions {
  /** Give up after this long; default 30 s (a deadline for a loaded machine, not a speed assertion). */
  readonly timeoutMs?: number;
  /** Pause between checks; default 20 ms. */
  readonly intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  readonly description?: string;
}

/**
 * Calls `check` until it returns a value other than undefined, null or false, and returns that
 * value. A check that throws is retried; after the deadline the last error becomes the cause.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 30_000, intervalMs = 20, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await check();
      lastValue = value;
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${description} (last value: ${JSON.stringify(lastValue)}).`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
