import { sql } from '../db/engine.sql.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import type { RunEventListener, RunEventType } from './run.types.ts';
import { type ReplayState, RunEventStream } from './run-event-stream.ts';
import { type SnapshotRow, toRunSnapshot } from './run-rows.ts';

/**
 * The event streams a FlowClient has open: one per watched run, shared by its listeners (run.on(),
 * watch()) and closed when the last of them unsubscribes.
 */
export class RunEventStreams {
  private readonly streams = new Map<string, Promise<RunEventStream>>();

  /** Whether this process watches the run's events now. */
  has(runId: string): boolean {
    return this.streams.has(runId);
  }

  /**
   * Calls `listener` with the run's events of `type` ('*': all), those before the call replayed
   * from the run's state in `target`'s database; resolves with the unsubscribe function once the
   * subscription is active.
   */
  async watch(
    target: PgflowRegistration,
    runId: string,
    type: RunEventType | '*',
    listener: RunEventListener,
  ): Promise<() => void> {
    let stream = this.streams.get(runId);
    if (stream === undefined) {
      const created = new RunEventStream(runId, target.listener, (id) => readReplayState(target, id));
      stream = created.open().then(() => created);
      this.streams.set(runId, stream);
      stream.catch(() => this.streams.delete(runId));
    }
    const opened = await stream;
    const remove = opened.add(type, listener);
    return () => {
      remove();
      if (opened.size === 0 && this.streams.get(runId) === stream) {
        this.streams.delete(runId);
        void opened.close();
      }
    };
  }
}

/** The run's state, for replaying its past events to a new listener; undefined for an unknown run. */
async function readReplayState(target: PgflowRegistration, runId: string): Promise<ReplayState | undefined> {
  const [row] = await target.database.query<SnapshotRow>(sql.runSnapshot, [runId, false]);
  if (row === undefined) return undefined;
  const snapshot = toRunSnapshot(row);
  return {
    run: { ...snapshot, failedStep: row.failed_step, errorMessage: row.error_message },
    steps: snapshot.steps,
    retriedTasks: snapshot.steps.flatMap((step) =>
      step.tasks.map((task) => ({ ...task, stepSlug: step.stepSlug, status: task.status })),
    ),
  };
}
