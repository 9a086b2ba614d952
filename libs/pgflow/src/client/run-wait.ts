import { runChannel } from '../db/engine.sql.ts';
import type { NotificationListener } from '../db/notification-listener.ts';
import { isConnectionError } from '../db/sql-state.ts';
import { PgflowShutdownError } from '../errors/pgflow-shutdown.error.ts';
import { RunCancelledError } from '../errors/run-cancelled.error.ts';
import { RunFailedError } from '../errors/run-failed.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { WaitTimeoutError } from '../errors/wait-timeout.error.ts';
import type { LocalWait } from '../registration/local-outcomes.ts';
import { Backoff } from '../support/backoff.ts';
import { LongTimeout } from '../support/long-timeout.ts';
import type { CompletedRun, WaitOptions } from './run.types.ts';
import type { RunRow } from './run-rows.ts';

/** A run with the step that failed it, if any (sql.runOutcome). */
export interface RunOutcomeRow extends RunRow {
  readonly cancel_reason: string | null;
  readonly failed_step: string | null;
  readonly error_message: string | null;
}

/** What a wait needs from FlowClient. */
export interface RunWaitContext {
  readonly listener: NotificationListener;
  /** Reads the run's outcome row from the tables (undefined: no such run). */
  readOutcome(runId: string): Promise<RunOutcomeRow | undefined>;
  /** Registers `settle` for the run's outcome when this process's worker reports the task that ends it (LocalOutcomes). */
  awaitLocally(runId: string, settle: (outcome: RunOutcomeRow) => void): LocalWait;
  /** Registers the function that rejects this wait at shutdown; returns the function that removes it. */
  onShutdown(reject: () => void): () => void;
}

/** The run ends (or is deleted): the only events after which a read of the run can settle a wait. */
const END_EVENTS: ReadonlySet<unknown> = new Set(['run:completed', 'run:failed', 'run:cancelled', 'run:deleted']);

/**
 * A wait also reads its run this often: when the engine sheds notifications (the server's
 * notification queue nearly full, see pgflow.limits) none arrives, and the wait must still end.
 */
const SAFETY_READ_MS = 15_000;

/**
 * One `wait()` for a run to end. The outcome always comes from the tables (sql.runOutcome), never
 * from a notification: NOTIFY needs no privilege, so any role that can connect to the database can
 * send an event on the run's channel (SECURITY.md). A notification of the run's end only says "read
 * the run now": one read per end event, and at most one read in flight (a burst of notifications,
 * forged or not, costs one more read, not one each). The run is also read when the LISTEN is active
 * (it may have ended before), after the LISTEN connection comes back (a notification may have been
 * lost with it), and after a backoff when a read fails on a lost connection. When the worker of this
 * process reports the task that ends the run, the outcome comes with that report instead (read from
 * the tables by the statement that ended the run: LocalOutcomes), and the wait settles at once; while
 * that worker has a task of the run in hand, the wait does not LISTEN (LocalWait.whenReleased).
 */
export function waitForRun<TOutput, TInput>(
  runId: string,
  options: WaitOptions,
  context: RunWaitContext,
): Promise<CompletedRun<TOutput, TInput>> {
  const { timeoutMs, signal } = options;
  return new Promise<CompletedRun<TOutput, TInput>>((resolve, reject) => {
    let finished = false;
    let timer: LongTimeout | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => Promise<void>) | undefined;
    let reading = false;
    let readAgain = false;
    let stopReconnect = (): void => {};
    let removeShutdown = (): void => {};
    const retries = new Backoff(100, 2_000);

    const finish = (settle: () => void): void => {
      if (finished) return;
      finished = true;
      timer?.clear();
      clearTimeout(retryTimer);
      clearInterval(safetyTimer);
      signal?.removeEventListener('abort', onAbort);
      stopReconnect();
      removeShutdown();
      local.stop();
      void unsubscribe?.();
      settle();
    };
    const fail = (error: unknown): void => finish(() => reject(error));
    let safetyTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => fail(signal?.reason);

    const settleFrom = (outcome: RunOutcomeRow | undefined): void => {
      if (outcome === undefined) fail(new RunNotFoundError(runId));
      else if (outcome.status === 'failed') fail(new RunFailedError(runId, outcome.failed_step, outcome.error_message));
      else if (outcome.status === 'cancelled') fail(new RunCancelledError(runId, outcome.cancel_reason));
      else if (outcome.status === 'completed') finish(() => resolve(completedRun<TOutput, TInput>(outcome)));
    };
    const read = async (): Promise<void> => {
      try {
        const outcome = await context.readOutcome(runId);
        retries.reset();
        settleFrom(outcome);
      } catch (error) {
        if (finished) return;
        if (!isConnectionError(error)) {
          fail(error);
          return;
        }
        // The database is unreachable: read again after a backoff (the run may end meanwhile, and
        // its notification may be lost with the connection).
        retryTimer = setTimeout(check, retries.next());
      }
    };
    /** Reads the run now, or right after the read in flight (which may have started before the change). */
    function check(): void {
      clearTimeout(retryTimer);
      if (finished) return;
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      void read().finally(() => {
        reading = false;
        if (readAgain) {
          readAgain = false;
          check();
        }
      });
    }

    removeShutdown = context.onShutdown(() => fail(new PgflowShutdownError(runId)));
    const local = context.awaitLocally(runId, settleFrom);
    signal?.addEventListener('abort', onAbort, { once: true });
    // timeoutMs may exceed what one Node.js timer can wait (about 24.8 days).
    if (timeoutMs !== undefined) timer = new LongTimeout(() => fail(new WaitTimeoutError(runId, timeoutMs)), timeoutMs);
    stopReconnect = context.listener.onReconnect(check);
    safetyTimer = setInterval(check, SAFETY_READ_MS);
    safetyTimer.unref();
    const listen = (): void => {
      if (finished) return;
      context.listener
        .subscribe(runChannel(runId), (payload) => {
          // A report of this process's worker may be bringing the outcome: read only if it did not.
          if (isEndEvent(payload)) local.afterReports(check);
        })
        .then((off) => {
          unsubscribe = off;
          if (finished) void off();
          // The run may have ended before the LISTEN: read it, once a report of this process's worker
          // naming it, if one is in flight, has ended (it may bring the outcome, and the read is then not needed).
          else local.afterReports(check);
        }, fail);
    };
    // While this process's worker has a task of the run in hand, its report brings the outcome: the
    // LISTEN waits until it has none (or HELD_LISTEN_DEFER_MS), and a run that ends meanwhile needs none.
    local.whenReleased(listen);
  });
}

/** Whether a notification says the run ended (what it says is not trusted: see waitForRun). */
function isEndEvent(payload: string): boolean {
  try {
    return END_EVENTS.has((JSON.parse(payload) as { event_type?: unknown } | null)?.event_type);
  } catch {
    return false;
  }
}

function completedRun<TOutput, TInput>(run: RunRow): CompletedRun<TOutput, TInput> {
  return {
    runId: run.run_id,
    flowSlug: run.flow_slug,
    status: 'completed',
    input: run.input as TInput,
    output: run.output as TOutput,
    startedAt: run.started_at,
    completedAt: run.completed_at as Date,
  };
}
