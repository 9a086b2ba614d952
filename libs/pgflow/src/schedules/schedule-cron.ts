/**
 * Cron expressions, read by croner (the library parses no cron itself): 5 fields (minute
 * precision) or 6 (seconds first), in an IANA time zone, day-of-month and day-of-week combined with
 * OR as in Vixie cron.
 */
import { Cron } from 'croner';

/** A parsed cron in its time zone: the ticks before and after a moment. */
export class CronSchedule {
  private readonly cron: Cron;

  /** Throws (croner's error, or a RangeError for the time zone) when either is invalid. */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    if (!isTimeZone(timeZone)) throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);
    this.cron = new Cron(expression, { timezone: timeZone, mode: '5-or-6-parts', paused: true });
  }

  /** The first tick strictly after `moment`, or null when the cron never fires again. */
  nextAfter(moment: Date): Date | null {
    return this.cron.nextRun(moment);
  }

  /** Up to `count` ticks at or before `moment`, oldest first. */
  latestAtOrBefore(moment: Date, count: number): Date[] {
    // previousRuns counts a run earlier in the reference's second; one millisecond more includes `moment` itself.
    return this.cron
      .previousRuns(count, new Date(moment.getTime() + 1))
      .filter((tick) => tick.getTime() <= moment.getTime())
      .reverse();
  }
}

/** Whether the runtime knows the IANA time zone (what croner then uses). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
