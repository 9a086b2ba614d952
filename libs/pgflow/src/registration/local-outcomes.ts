import type { RunOutcomeRow } from '../client/run-wait.ts';

/** An ended run as the engine returns it with a report (pgflow._report_and_claim's run_outcome). */
export interface RunOutcomeJson extends Omit<RunOutcomeRow, 'started_at' | 'completed_at' | 'failed_at'> {
  readonly started_at: string;
  readonly completed_at: string | null;
  readonly failed_at: string | null;
}

type Settle = (outcome: RunOutcomeRow) => void;

/**
 * The runs that wait() calls of this process wait for, in one database, for the worker of this
 * process that serves it. When the worker reports tasks of such a run, it names the run to the
 * engine (pgflow._report_and_claim's p_awaited_run_ids), and the same statement returns the run's
 * outcome if the report ended it: the wait settles when that statement has committed, without
 * waiting for the run's notification and reading the run again. The outcome is read from the tables
 * by the statement that ended the run, like sql.runOutcome, never taken from a notification.
 */
export class LocalOutcomes {
  private readonly waits = new Map<string, Set<Settle>>();

  /** Calls `settle` when a report of this process's worker ends the run; returns the function that stops it. */
  await(runId: string, settle: Settle): () => void {
    let settles = this.waits.get(runId);
    if (settles === undefined) {
      settles = new Set();
      this.waits.set(runId, settles);
    }
    settles.add(settle);
    return () => {
      settles.delete(settle);
      if (settles.size === 0 && this.waits.get(runId) === settles) this.waits.delete(runId);
    };
  }

  /** The runs among `runIds` that a wait() of this process waits for, each once. */
  awaitedAmong(runIds: Iterable<string>): string[] {
    if (this.waits.size === 0) return [];
    const awaited = new Set<string>();
    for (const runId of runIds) if (this.waits.has(runId)) awaited.add(runId);
    return [...awaited];
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
