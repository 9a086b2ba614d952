import type { ScheduleCatchUp, ScheduleOverlap } from '../types/schedule-options.ts';

/** A schedule as stored in pgflow.schedules (FlowClient.listSchedules()). */
export interface ScheduleInfo {
  readonly name: string;
  readonly flowSlug: string;
  readonly cron: string;
  readonly timeZone: string;
  /** The input of its runs; undefined: `{ scheduledAt }`. */
  readonly input: unknown;
  readonly overlap: ScheduleOverlap;
  readonly catchUp: ScheduleCatchUp;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  /** When it fires next; null while paused, or until a worker has computed it. */
  readonly nextTickAt: Date | null;
  readonly lastTickAt: Date | null;
  /** The run its latest started tick started. */
  readonly lastRunId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What pauseSchedule() and resumeSchedule() return. */
export interface SchedulePauseState {
  readonly name: string;
  readonly flowSlug: string;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  /** False when the schedule already was in that state (nothing changed). */
  readonly changed: boolean;
}
