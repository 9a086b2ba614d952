import type { Logger } from '@nestjs/common';
import { SCHEDULES_CHANNEL, sql } from '../db/engine.sql.ts';
import type { NotificationListener } from '../db/notification-listener.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { isRetryableError } from '../db/sql-state.ts';
import { Backoff } from '../support/backoff.ts';
import type { ScheduleCatchUp } from '../types/schedule-options.ts';
import { CronSchedule } from './schedule-cron.ts';
import { planTicks } from './schedule-ticks.ts';

/**
 * Longest sleep between two reads of the schedules. Changes wake the scheduler at once (the engine
 * notifies on 'pgflow:schedules'); this read only covers a notification the engine shed (its queue
 * past limits.notify_queue_shed_at) or a schedule changed by hand without one.
 */
export const MAX_SCHEDULER_SLEEP_MS = 60_000;

interface ServedScheduleRow {
  readonly schedule_name: string;
  readonly cron: string;
  readonly time_zone: string;
  readonly catch_up: ScheduleCatchUp;
  readonly next_tick_at: Date | null;
  /** next_tick_at to the microsecond, for the compare-and-set. */
  readonly next_tick_exact: string | null;
  readonly db_now: Date;
}

interface FireResult {
  readonly advanced: boolean;
  readonly ticks: ReadonlyArray<{
    tick_at: string;
    outcome: string;
    run_id: string | null;
    error_message: string | null;
  }>;
}

/**
 * Fires the schedules of the flows a worker serves. It sleeps until the next due tick of any of
 * them (by the database's clock), then computes the due ticks with the cron and hands them to
 * pgflow.fire_schedule, which starts each tick's run exactly once across every process (tick key
 * and compare-and-set): every worker process runs one, and whichever comes first fires the tick.
 * Any change to the schedules (sync at boot, pause, resume, a tick fired elsewhere) wakes it to read
 * them again; it never polls faster than that.
 */
export class FlowScheduler {
  private readonly crons = new Map<string, CronSchedule>();
  /** Names whose cron could not be read, so that each is reported once. */
  private readonly unreadable = new Set<string>();
  /** The last refusal of the engine per schedule, so that each is reported once. */
  private readonly refusals = new Map<string, string>();
  private readonly backoff = new Backoff(500, 30_000);
  private unsubscribes: Array<() => unknown> = [];
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private poked = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly database: PgflowDatabase,
    private readonly listener: NotificationListener,
    private readonly logger: Logger,
    private readonly flowSlugs: readonly string[],
  ) {}

  /** Starts firing; resolves once the scheduler listens for changes. Nothing to do without flows. */
  async start(): Promise<void> {
    if (this.flowSlugs.length === 0 || this.stopped) return;
    const unsubscribe = await this.listener.subscribe(SCHEDULES_CHANNEL, () => this.poke());
    if (this.stopped) {
      // Stopped while subscribing: stop() found nothing to end.
      await unsubscribe();
      return;
    }
    this.unsubscribes.push(
      unsubscribe,
      this.listener.onReconnect(() => this.poke()),
    );
    this.loopDone = this.loop();
  }

  /** Stops firing; resolves when a round in progress has ended. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loopDone;
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe();
  }

  private poke(): void {
    this.poked = true;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.poked = false;
      let wakeAt: number;
      try {
        wakeAt = await this.round();
        this.backoff.reset();
        this.failing = false;
      } catch (error) {
        if (!this.failing && !this.stopped) {
          this.logger.warn(`Firing schedules failed (${(error as Error).message}); retrying.`, (error as Error).stack);
        }
        this.failing = true;
        wakeAt = Date.now() + this.backoff.next();
      }
      await this.sleepUntil(Math.min(wakeAt, Date.now() + MAX_SCHEDULER_SLEEP_MS));
    }
  }

  /** Fires what is due; returns when (by this process's clock) the next tick is due. */
  private async round(): Promise<number> {
    const rows = await this.database.query<ServedScheduleRow>(sql.servedSchedules, [this.flowSlugs]);
    let nextDue = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      if (this.stopped) break;
      const cron = this.cronOf(row);
      if (cron === undefined) continue;
      // The database's clock decides what is due; this process's only how long to sleep.
      const skew = row.db_now.getTime() - Date.now();
      const next = await this.fireDue(row, cron);
      if (next !== null) nextDue = Math.min(nextDue, next.getTime() - skew);
    }
    return nextDue;
  }

  /**
   * Fires the schedule's due ticks, if any; returns its next tick. A refusal of the engine is
   * reported (once per schedule and message) and leaves the other schedules firing; a lost connection
   * or a lost race ends the round, which is tried again after a backoff.
   */
  private async fireDue(row: ServedScheduleRow, cron: CronSchedule): Promise<Date | null> {
    const now = row.db_now;
    if (row.next_tick_at !== null && row.next_tick_at.getTime() > now.getTime()) return row.next_tick_at;
    const plan =
      row.next_tick_at === null
        ? { ticks: [], next: cron.nextAfter(now) }
        : planTicks(cron, row.catch_up, row.next_tick_at, now);
    if (plan.next === null) return null;
    try {
      await this.fire(row, plan.ticks, plan.next);
      this.refusals.delete(row.schedule_name);
    } catch (error) {
      if (isRetryableError(error)) throw error;
      const message = (error as Error).message;
      if (this.refusals.get(row.schedule_name) !== message) {
        this.refusals.set(row.schedule_name, message);
        this.logger.error(`Schedule '${row.schedule_name}' could not fire: ${message}`, (error as Error).stack);
      }
      return null;
    }
    return plan.next;
  }

  private async fire(
    row: ServedScheduleRow,
    ticks: ReadonlyArray<{ at: Date; run: boolean }>,
    next: Date,
  ): Promise<void> {
    const [result] = await this.database.query<{ result: FireResult }>(sql.fireSchedule, [
      row.schedule_name,
      row.next_tick_exact,
      JSON.stringify(ticks.map((tick) => ({ at: tick.at.toISOString(), run: tick.run }))),
      next.toISOString(),
    ]);
    if (!result?.result.advanced) return; // another process was first
    for (const tick of result.result.ticks) {
      if (tick.outcome === 'failed') {
        this.logger.error(
          `Schedule '${row.schedule_name}' could not start the run of its tick ${tick.tick_at}: ${tick.error_message}`,
        );
      } else if (tick.outcome === 'skipped_overlap') {
        this.logger.log(
          `Schedule '${row.schedule_name}' skipped its tick ${tick.tick_at}: its previous run is in progress.`,
        );
      }
    }
    const missed = result.result.ticks.filter((tick) => tick.outcome === 'skipped_catch_up').length;
    if (missed > 0) {
      this.logger.warn(
        `Schedule '${row.schedule_name}' missed ${missed} tick(s) while no worker ran; its catchUp '${row.catch_up}' ` +
          'left them out.',
      );
    }
  }

  /** The schedule's parsed cron; undefined (reported once) when croner refuses it (a row written by hand). */
  private cronOf(row: ServedScheduleRow): CronSchedule | undefined {
    const key = `${row.cron}\u0000${row.time_zone}`;
    let cron = this.crons.get(key);
    if (cron !== undefined) return cron;
    try {
      cron = new CronSchedule(row.cron, row.time_zone);
    } catch (error) {
      if (!this.unreadable.has(row.schedule_name)) {
        this.unreadable.add(row.schedule_name);
        this.logger.error(
          `Schedule '${row.schedule_name}' has cron '${row.cron}' in time zone '${row.time_zone}', which cannot be ` +
            `read (${(error as Error).message}); it does not fire. Fix it in the @FlowSchedule() decorator and restart.`,
        );
      }
      return undefined;
    }
    this.crons.set(key, cron);
    return cron;
  }

  private sleepUntil(epochMs: number): Promise<void> {
    if (this.poked || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, epochMs - Date.now()));
      const wake = (): void => done();
      this.wakeUp = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
