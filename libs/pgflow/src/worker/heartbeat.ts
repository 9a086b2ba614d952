import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';

/**
 * The worker's periodic duties, one after the other every interval: its heartbeat in
 * pgflow.workers, then the stalled-task sweep (cluster-safe: the engine takes stalled tasks with
 * skip locked, so every worker may sweep). A failure is logged once, until a beat succeeds again.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly database: PgflowDatabase,
    private readonly logger: Logger,
    private readonly workerIds: readonly string[],
    private readonly intervalMs: number,
  ) {}

  /** Beats at once, then every interval. */
  start(): void {
    this.schedule(0);
  }

  /** Stops beating; resolves when a beat in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.current = this.beat().finally(() => {
        if (!this.stopped) this.schedule(this.intervalMs);
      });
    }, delayMs);
  }

  private async beat(): Promise<void> {
    try {
      const beats = await this.database.query<{ was_declared_dead: boolean }>(sql.heartbeat, [this.workerIds]);
      if (beats.some((beat) => beat.was_declared_dead)) {
        this.logger.warn(
          'This worker was declared dead by another one: its heartbeat came later than worker.declareDeadAfterMs ' +
            '(an event loop blocked by CPU-bound work, a paused machine?). Its started tasks were handed to other ' +
            'workers; a result it reports for one of them counts only if no other attempt took that task over.',
        );
      }
      const [row] = await this.database.query<{ requeued: number }>(sql.requeueStalledTasks);
      if ((row?.requeued ?? 0) > 0) this.logger.warn(`Requeued ${row?.requeued} stalled task(s).`);
      this.failing = false;
    } catch (error) {
      if (!this.failing && !this.stopped) this.logger.warn(`Heartbeat failed: ${(error as Error).message}.`);
      this.failing = true;
    }
  }
}
