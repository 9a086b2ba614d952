/** What running one task came to, as the worker reports it to the engine. */
export type TaskOutcome =
  | { readonly kind: 'completed'; readonly output: unknown }
  /** `retryable` false: the handler threw NonRetryableError (or an error with `retryable: false`). */
  | { readonly kind: 'failed'; readonly errorMessage: string; readonly error: unknown; readonly retryable?: boolean }
  /** The worker gave up waiting for the handler (shutdown deadline): the task is handed back. */
  | { readonly kind: 'abandoned' }
  /** The run was cancelled while the handler ran: nothing to report (the engine cancelled the task). */
  | { readonly kind: 'cancelled' };

/** The text stored as a task's error_message for whatever a handler threw. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) {
    const message = thrown.message || thrown.name || 'Error';
    return thrown.name && thrown.name !== 'Error' && !message.startsWith(thrown.name)
      ? `${thrown.name}: ${message}`
      : message;
  }
  if (typeof thrown === 'string') return thrown || '(empty string thrown)';
  if (thrown === undefined) return 'undefined was thrown (throw an Error to say what went wrong)';
  if (thrown === null) return 'null was thrown (throw an Error to say what went wrong)';
  try {
    const json = JSON.stringify(thrown);
    if (json !== undefined) return `${typeof thrown === 'object' ? 'Object' : typeof thrown} thrown: ${json}`;
  } catch {
    // Not serializable (a cycle, a BigInt): fall back to String().
  }
  return `${typeof thrown} thrown: ${String(thrown)}`;
}
