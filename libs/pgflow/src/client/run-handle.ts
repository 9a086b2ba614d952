import type { CompletedRun, RunEventListener, RunEventType, WaitOptions } from './run.types.ts';

/** What a RunHandle needs from FlowClient (kept narrow to avoid a circular import). */
interface RunWatcher {
  wait<TOutput, TInput>(runId: string, options?: WaitOptions): Promise<CompletedRun<TOutput, TInput>>;
  watch(runId: string, type: RunEventType | '*', listener: RunEventListener): Promise<() => void>;
}

/** A started run: `FlowClient.start()` returns one. */
export class RunHandle<TOutput = unknown, TInput = unknown> {
  constructor(
    readonly runId: string,
    readonly flowSlug: string,
    private readonly client: RunWatcher,
  ) {}

  /** See FlowClient.wait(): resolves when the run completes, rejects when it fails or times out. */
  wait(options?: WaitOptions): Promise<CompletedRun<TOutput, TInput>> {
    return this.client.wait<TOutput, TInput>(this.runId, options);
  }

  /**
   * Calls `listener` with each event of `type` ('*': every event) of this run, including those that
   * happened before the call (replayed, in order). Returns the function that unsubscribes; await
   * `subscribed` (on the returned function) to know the subscription is active.
   */
  on(type: RunEventType | '*', listener: RunEventListener): (() => void) & { subscribed: Promise<void> } {
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    const subscribed = this.client.watch(this.runId, type, listener).then((off) => {
      if (cancelled) off();
      else unsubscribe = off;
    });
    const off = (): void => {
      cancelled = true;
      unsubscribe?.();
    };
    return Object.assign(off, { subscribed });
  }
}
