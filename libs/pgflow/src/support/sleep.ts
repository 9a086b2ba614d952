/**
 * Resolves after `ms` milliseconds, or as soon as `signal` fires (never rejects): a pause that a
 * shutdown can cut short. Callers pass delays they computed (backoffs, deadlines), all far below
 * Node's timer limit.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
