import { Logger } from '@nestjs/common';
import type {
  CompletedRun,
  RunEventListener,
  RunEventOptions,
  RunEventSubscription,
  RunEventType,
  WaitOptions,
} from './run.types.ts';

/**
 * What a RunHandle needs from FlowClient (kept narrow to avoid a circular import): FlowClient gives a
 * handle the one of its run's database, so that the handle needs no look-up of the run.
 */
export interface RunWatcher {
  wait<TOutput, TInput>(runId: string, options?: WaitOptions): Promise<CompletedRun<TOutput, TInput>>;
  watch(runId: string, type: RunEventType | '*', listener: RunEventListener): Promise<() => void>;
}

const logger = new Logger('PgflowRunEvents');

/** A started run: `FlowClient.start()` returns one. */
export class RunHandle<TOutput = unknown, TInput = unknown> {
  constructor(
    readonly runId: string,
    readonly flowSlug: string,
    private readonly client: RunWatcher,
    /** True when start() with an idempotencyKey found the run that had the key: nothing was started. */
    readonly deduplicated = false,
  ) {}

  /**
   * See FlowClient.wait(): resolves when the run completes, rejects when it fails (RunFailedError),
   * is cancelled (RunCancelledError) or times out.
   */
  wait(options?: WaitOptions): Promise<CompletedRun<TOutput, TInput>> {
    return this.client.wait<TOutput, TInput>(this.runId, options);
  }

  /**
   * Calls `listener` with each event of `type` ('*': every event) of this run, including those that
   * happened before the call (replayed, in order). Returns the function that unsubscribes; await
   * `subscribed` (on the returned function) to know the subscription is active.
   *
   * Events are notifications, not the run's state: any role that can connect to the database can
   * read them, and any role that can call pg_notify can forge them (SECURITY.md). Decide on the
   * outcome with wait() or FlowClient.getRun(), which read the tables.
   *
   * If the subscription cannot be made (the application is shutting down), `subscribed` rejects and
   * the error goes to `options.onError`, or is logged with its stack when there is none: it never
   * becomes an unhandled rejection, which would end the process.
   */
  on(type: RunEventType | '*', listener: RunEventListener, options: RunEventOptions = {}): RunEventSubscription {
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    // Unsubscribed before the subscription is active: the events delivered to it once it is (those
    // replayed from the run's state, at once) must not reach the listener either.
    const guarded: RunEventListener = (event) => {
      if (!cancelled) listener(event);
    };
    const subscribed = this.client.watch(this.runId, type, guarded).then((off) => {
      if (cancelled) off();
      else unsubscribe = off;
    });
    subscribed.catch((error: unknown) => this.subscriptionFailed(type, error, options.onError));
    const off = (): void => {
      cancelled = true;
      unsubscribe?.();
    };
    return Object.assign(off, { subscribed });
  }

  private subscriptionFailed(type: string, error: unknown, onError: ((error: unknown) => void) | undefined): void {
    if (onError !== undefined) {
      try {
        onError(error);
        return;
      } catch (thrown) {
        logger.error(`The onError callback of run.on('${type}') on run ${this.runId} threw`, (thrown as Error)?.stack);
      }
    }
    logger.error(
      `Could not subscribe to the '${type}' events of run ${this.runId}: ${(error as Error)?.message ?? String(error)}`,
      (error as Error)?.stack,
    );
  }
}
