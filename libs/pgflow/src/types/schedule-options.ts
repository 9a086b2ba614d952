/** What a schedule does with a tick while its previous run is still in progress. */
export type ScheduleOverlap = 'allow' | 'skip';

/**
 * What a schedule does with the ticks it missed while no worker ran: 'none' skips them, 'latest'
 * starts one run for them (the latest), 'all' one run per missed tick (the latest 100 at most).
 */
export type ScheduleCatchUp = 'none' | 'latest' | 'all';

/** The options of `@FlowSchedule(cron, options)`. */
export interface FlowScheduleOptions {
  /**
   * The schedule's name, unique in the database (letters, digits, `_ . : -`, at most 128): what
   * `pauseSchedule(name)` takes. Default: the flow slug (so a flow with several schedules names them).
   */
  readonly name?: string;
  /** The IANA time zone the cron is read in (e.g. 'Europe/Paris'); default 'UTC'. */
  readonly timeZone?: string;
  /** The input of every run the schedule starts (JSON); default `{ scheduledAt: '<the tick, ISO 8601>' }`. */
  readonly input?: unknown;
  /** 'allow' (default) starts a run at every tick; 'skip' skips a tick while the previous run is in progress. */
  readonly overlap?: ScheduleOverlap;
  /** What happens to ticks missed while no worker ran; default 'latest'. */
  readonly catchUp?: ScheduleCatchUp;
}
