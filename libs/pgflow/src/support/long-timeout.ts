/**
 * Longest delay Node.js keeps for a timer (a signed 32-bit count of milliseconds, about 24.8 days).
 * setTimeout with a longer delay does not wait longer: it fires after 1 ms, with only a
 * TimeoutOverflowWarning to say so.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * A timer for any delay, for durations users choose (a step's timeout may be up to a year): it
 * chains timers of at most {@link MAX_TIMER_DELAY_MS}, so that a 30-day timeout fires after 30 days
 * rather than at once. Each link counts down what is left, so the whole wait is the sum of real
 * timer delays (a change of the wall clock does not shorten or stretch it).
 */
export class LongTimeout {
  private timer: NodeJS.Timeout | undefined;
  private remainingMs: number;
  private cleared = false;

  constructor(
    private readonly callback: () => void,
    delayMs: number,
  ) {
    // Infinity never fires (each link takes nothing off it); NaN fires at once, as setTimeout does.
    this.remainingMs = Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs);
    this.arm();
  }

  /** Cancels the timer: the callback will not run. Safe to call more than once, or after it ran. */
  clear(): void {
    this.cleared = true;
    clearTimeout(this.timer);
  }

  private arm(): void {
    const link = Math.min(this.remainingMs, MAX_TIMER_DELAY_MS);
    this.timer = setTimeout(() => {
      if (this.cleared) return;
      this.remainingMs -= link;
      if (this.remainingMs > 0) this.arm();
      else this.callback();
    }, link);
  }
}
