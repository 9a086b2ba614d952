/**
 * Which ticks of a schedule to fire now, and which to record as missed: the part of firing a
 * schedule that needs the cron (the engine cannot read cron), as a pure function of the schedule's
 * next tick and the database's clock.
 */
import type { ScheduleCatchUp } from '../types/schedule-options.ts';
import type { CronSchedule } from './schedule-cron.ts';

/** At most this many missed ticks start a run under catchUp 'all' (the latest ones) or are recorded. */
export const MAX_CATCH_UP_TICKS = 100;

/**
 * The latest due tick counts as on time (not missed) when it is at most this late: a worker that
 * was busy, or restarted within a minute, still fires it whatever the catch-up policy. Every earlier
 * due tick, whose next tick is also due, was missed.
 */
export const ON_TIME_MS = 60_000;

/** One tick for pgflow.fire_schedule: `run` false records a missed tick the policy leaves out. */
export interface PlannedTick {
  readonly at: Date;
  readonly run: boolean;
}

export interface TickPlan {
  /** The due ticks, oldest first (at most MAX_CATCH_UP_TICKS missed ones, and the on-time one). */
  readonly ticks: readonly PlannedTick[];
  /** The first tick after `now`; null when the cron never fires again. */
  readonly next: Date | null;
}

/** The ticks from `nextTickAt` up to `now` and what to do with each, under `catchUp`. */
export function planTicks(cron: CronSchedule, catchUp: ScheduleCatchUp, nextTickAt: Date, now: Date): TickPlan {
  const due = cron
    .latestAtOrBefore(now, MAX_CATCH_UP_TICKS + 1)
    .filter((tick) => tick.getTime() >= nextTickAt.getTime());
  const latest = due.at(-1);
  const onTime = latest !== undefined && now.getTime() - latest.getTime() <= ON_TIME_MS ? latest : undefined;
  const missed = (onTime === undefined ? due : due.slice(0, -1)).slice(-MAX_CATCH_UP_TICKS);
  const caughtUp = catchUp === 'all' ? missed.length : catchUp === 'latest' ? Math.min(1, missed.length) : 0;
  const ticks: PlannedTick[] = missed.map((at, index) => ({ at, run: index >= missed.length - caughtUp }));
  if (onTime !== undefined) ticks.push({ at: onTime, run: true });
  return { ticks, next: cron.nextAfter(now) };
}
