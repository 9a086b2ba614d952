import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import type { ClaimedTask } from './task-execution.ts';

/**
 * How long a cancelled run is remembered: longer than a claim that raced the cancel can take to
 * deliver its tasks (one round trip).
 */
const CANCELLED_RUN_MEMORY_MS = 60_000;

/**
 * The runs a worker heard were cancelled lately: a claim that raced the cancel (the task was started
 * in the engine just before) may deliver a task of one after its notification, and such a task is
 * not started. Run ids are compared without regard to case.
 */
export class CancelledRuns {
  /** Each remembered run, with when to forget it. */
  private readonly forgetAt = new Map<string, number>();

  constructor(
    private readonly database: PgflowDatabase,
    private readonly logger: Logger,
  ) {}

  /** Remembers `runId` as cancelled (and forgets the runs remembered long enough). */
  remember(runId: string): void {
    const now = Date.now();
    for (const [id, forgetAt] of this.forgetAt) if (forgetAt <= now) this.forgetAt.delete(id);
    this.forgetAt.set(runId.toLowerCase(), now + CANCELLED_RUN_MEMORY_MS);
  }

  /** Whether `runId` was cancelled lately. */
  has(runId: string): boolean {
    const forgetAt = this.forgetAt.get(runId.toLowerCase());
    return forgetAt !== undefined && forgetAt > Date.now();
  }

  /**
   * A claimed task of a run remembered as cancelled: either the claim raced the cancel (the engine
   * cancelled the task since, and dropping it is right) or the run was retried since (retry()), and
   * its task must run. The run's status in the table tells; on a failed read the memory stands (the
   * task then comes back after its timeout).
   */
  async forgetRetried(tasks: readonly ClaimedTask[]): Promise<void> {
    const remembered = [...new Set(tasks.map((t) => t.run_id).filter((runId) => this.has(runId)))];
    if (remembered.length === 0) return;
    try {
      const rows = await this.database.query<{ run_id: string }>(sql.runsInProgress, [remembered]);
      for (const row of rows) this.forgetAt.delete(row.run_id.toLowerCase());
    } catch (error) {
      this.logger.warn(`Could not read the status of run(s) ${remembered.join(', ')}: ${(error as Error).message}`);
    }
  }
}
