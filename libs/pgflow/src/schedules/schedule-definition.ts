import type { JsonValue } from '../json/json-value.ts';
import type { ScheduleCatchUp, ScheduleOverlap } from '../types/schedule-options.ts';

/** One validated `@FlowSchedule()` of a flow: what is synced to pgflow.schedules at boot. */
export interface ScheduleDefinition {
  readonly name: string;
  /** 5 or 6 fields, trimmed. */
  readonly cron: string;
  readonly timeZone: string;
  /** The input of every run; undefined: `{ scheduledAt }`. */
  readonly input: JsonValue | undefined;
  readonly overlap: ScheduleOverlap;
  readonly catchUp: ScheduleCatchUp;
}

/** A valid schedule name (the engine's CHECK schedules_name_is_valid). */
export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

/** The JSON sync_schedules takes for the schedules of one flow. */
export function toScheduleRows(schedules: readonly ScheduleDefinition[]): unknown[] {
  return schedules.map((schedule) => ({
    name: schedule.name,
    cron: schedule.cron,
    time_zone: schedule.timeZone,
    overlap: schedule.overlap,
    catch_up: schedule.catchUp,
    ...(schedule.input === undefined ? {} : { input: schedule.input }),
  }));
}
