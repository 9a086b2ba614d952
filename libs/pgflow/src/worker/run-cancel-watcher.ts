import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';

/**
 * Tells a worker's running handlers that their run was cancelled. pgflow.cancel_run notifies on
 * CONTROL_CHANNEL, but the notification only says "look": anyone can NOTIFY, so the run's status is
 * read from the table before any handler of it is aborted (one look-up per cancel of a served flow).
 */
export class RunCancelWatcher {
  constructor(
    private readonly database: PgflowDatabase,
    private readonly logger: Logger,
    /** Whether this worker serves the flow. */
    private readonly serves: (flowSlug: unknown) => boolean,
    /** Aborts the handlers of the run running here (TaskDispatcher.cancelRun). */
    private readonly cancelRun: (runId: string, reason: string | null) => void,
  ) {}

  /** A notification on CONTROL_CHANNEL. */
  onControl(payload: string): void {
    let event: { event_type?: unknown; run_id?: unknown; flow_slug?: unknown };
    try {
      event = JSON.parse(payload) as typeof event;
    } catch {
      return;
    }
    if (event?.event_type !== 'run:cancelled' || typeof event.run_id !== 'string') return;
    if (!this.serves(event.flow_slug)) return;
    void this.abortCancelled([event.run_id]);
  }

  /** Aborts the handlers of those of `runIds` that the engine has cancelled. Never rejects. */
  async abortCancelled(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    try {
      const rows = await this.database.query<{ run_id: string; cancel_reason: string | null }>(sql.cancelledRuns, [
        runIds,
      ]);
      for (const row of rows) this.cancelRun(row.run_id, row.cancel_reason);
    } catch (error) {
      this.logger.warn(
        `Could not read whether run(s) ${runIds.join(', ')} were cancelled (${(error as Error).message}); ` +
          'their handlers run on, and what they report changes nothing if they were.',
      );
    }
  }
}
