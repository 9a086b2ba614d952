import type { RunOutcomeRow } from '../client/run-wait.ts';

/** An ended run as the engine returns it with a report (pgflow._report_and_claim's run_outcome). */
export interface RunOutcomeJson extends Omit<RunOutcomeRow, 'started_at' | 'completed_at' | 'failed_at'> {
  readonly started_at: string;
  readonly completed_at: string | null;
  readonly failed_at: string | null;
}

type Settle = (outcome: RunOutcomeRow) => void;

/**
 * How long a wait() defers its LISTEN at most while this process's worker has a task of its run in
 * hand (LocalWait.whenReleased): a run ended by another process meanwhile (a cancel, another task's
 * failure) is heard this much later at most.
 */
export const HELD_LISTEN_DEFER_MS = 100;

/** The worker of this process, as LocalOutcomes sees it (PgflowWorker, while it runs). */
export interface RunHolder {
  /**
   * The runs of the tasks it has in hand: claimed for it and not yet reported (being started,
   * running, their result waiting for a report or in one under way).
   */
  heldRunIds(): ReadonlySet<string>;
}

/** One wait() registered with LocalOutcomes. */
export interface LocalWait {
  /** Calls `then` once no report naming the run is in flight (at once when none is). */
  afterReports(then: () => void): void;
  /**
   * Calls `then` once this process's worker has no task of the run in hand (at once when it has
   * none), or HELD_LISTEN_DEFER_MS later at the latest. A wait listens for its run's notifications
   * only then: while the worker has a task of the run, the report of that task brings the run's
   * outcome (or another of its tasks, held in turn), and a run that ends within the time costs no
   * LISTEN and UNLISTEN at all.
   */
  whenReleased(then: () => void): void;
  /** Stops the wait's registration. */
  stop(): void;
}

/**
 * The runs that wait() calls of this process wait for, in one database, for the worker of this
 * process that serves it. When the worker reports tasks of such a run, it names the run to the
 * engine (pgflow._report_and_claim's p_awaited_run_ids), and the same statement returns the run's
 * outcome if the report ended it: the wait settles when that statement has committed, without
 * waiting for the run's notification and reading the run again. The outcome is read from the tables
 * by the statement that ended the run, like sql.runOutcome, never taken from a notification.
 * The run's end notification can arrive before that statement's answer: a wait defers the read it
 * makes on it until the reports naming its run have ended (afterReports), and usually needs none.
 * While the worker has a task of the run in hand, the wait does not LISTEN at all (whenReleased).
 */
export class LocalOutcomes {
  private readonly waits = new Map<string, Set<Settle>>();
  /** Reports in flight that name a run, by run. */
  private readonly reporting = new Map<string, number>();
  /** What to do once the reports naming a run have ended, by run. */
  private readonly deferred = new Map<string, Array<() => void>>();
  /** What to do once the worker has no task of a run in hand (whenReleased), by run. */
  private readonly untilReleased = new Map<string, Set<() => void>>();

  /** @param holder the worker of this process while it runs (undefined: none, it holds nothing). */
  constructor(private readonly holder: () => RunHolder | undefined = () => undefined) {}

  /** No wait registered, no report naming a run in flight, nothing deferred. */
  get isEmpty(): boolean {
    return (
      this.waits.size === 0 && this.reporting.size === 0 && this.deferred.size === 0 && this.untilReleased.size === 0
    );
  }

  /** Calls `settle` when a report of this process's worker ends the run. */
  await(runId: string, settle: Settle): LocalWait {
    let settles = this.waits.get(runId);
    if (settles === undefined) {
      settles = new Set();
      this.waits.set(runId, settles);
    }
    settles.add(settle);
    const own = settles;
    let release: (() => void) | undefined;
    return {
      afterReports: (then) => {
        if (!this.reporting.has(runId)) then();
        else this.deferred.set(runId, [...(this.deferred.get(runId) ?? []), then]);
      },
      whenReleased: (then) => {
        if (!this.holds(runId)) then();
        else release = this.deferUntilReleased(runId, then);
      },
      stop: () => {
        own.delete(settle);
        if (own.size === 0 && this.waits.get(runId) === own) this.waits.delete(runId);
        release?.();
      },
    };
  }

  /**
   * The worker's tasks in hand changed (a round trip or a claim of its own ended): the waits deferred
   * by whenReleased whose run it no longer holds go on.
   */
  heldChanged(): void {
    if (this.untilReleased.size === 0) return;
    const held = this.holder()?.heldRunIds();
    for (const [runId, calls] of [...this.untilReleased]) {
      if (held?.has(runId)) continue;
      for (const call of [...calls]) call();
    }
  }

  /**
   * A report of tasks of `runIds` is about to be sent: returns the runs among them that a wait() of
   * this process waits for, each once, for the report to name; they count as named by a report in
   * flight until `reportEnded()` is called with them (after its outcomes were delivered, or it failed).
   */
  startReport(runIds: Iterable<string>): string[] {
    if (this.waits.size === 0) return [];
    const awaited = new Set<string>();
    for (const runId of runIds) if (this.waits.has(runId)) awaited.add(runId);
    for (const runId of awaited) this.reporting.set(runId, (this.reporting.get(runId) ?? 0) + 1);
    return [...awaited];
  }

  /** The report that named `runIds` (startReport) has ended: runs what waited for it. */
  reportEnded(runIds: readonly string[]): void {
    for (const runId of runIds) {
      const left = (this.reporting.get(runId) ?? 1) - 1;
      if (left > 0) {
        this.reporting.set(runId, left);
        continue;
      }
      this.reporting.delete(runId);
      const then = this.deferred.get(runId);
      this.deferred.delete(runId);
      for (const run of then ?? []) run();
    }
  }

  private holds(runId: string): boolean {
    return this.holder()?.heldRunIds().has(runId) ?? false;
  }

  /** Calls `then` at heldChanged() once the run is not held, or after HELD_LISTEN_DEFER_MS; returns the function that cancels. */
  private deferUntilReleased(runId: string, then: () => void): () => void {
    const cancel = (): void => {
      clearTimeout(timer);
      const calls = this.untilReleased.get(runId);
      calls?.delete(call);
      if (calls?.size === 0) this.untilReleased.delete(runId);
    };
    const call = (): void => {
      cancel();
      then();
    };
    const timer = setTimeout(call, HELD_LISTEN_DEFER_MS);
    let calls = this.untilReleased.get(runId);
    if (calls === undefined) {
      calls = new Set();
      this.untilReleased.set(runId, calls);
    }
    calls.add(call);
    return cancel;
  }

  /** Settles the waits of each ended run. */
  deliver(outcomes: readonly RunOutcomeJson[]): void {
    for (const json of outcomes) {
      const settles = this.waits.get(json.run_id);
      if (settles === undefined) continue;
      const outcome: RunOutcomeRow = {
        ...json,
        started_at: new Date(json.started_at),
        completed_at: json.completed_at === null ? null : new Date(json.completed_at),
        failed_at: json.failed_at === null ? null : new Date(json.failed_at),
      };
      for (const settle of [...settles]) settle(outcome);
    }
  }
}
