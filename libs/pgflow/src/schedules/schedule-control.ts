/**
 * FlowClient's schedule operations: list the schedules of every database the client reaches, pause
 * and resume one by name (pgflow.pause_schedule, resume_schedule) in the database that has it.
 */
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlStateOf } from '../db/sql-state.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { ScheduleNotFoundError } from '../errors/schedule-not-found.error.ts';
import type { RunRouter } from '../registration/run-router.ts';
import type { ScheduleCatchUp, ScheduleOverlap } from '../types/schedule-options.ts';
import type { ScheduleInfo, SchedulePauseState } from './schedule.types.ts';

interface ScheduleRow {
  readonly schedule_name: string;
  readonly flow_slug: string;
  readonly cron: string;
  readonly time_zone: string;
  readonly input: unknown;
  readonly overlap: ScheduleOverlap;
  readonly catch_up: ScheduleCatchUp;
  readonly paused_at: Date | null;
  readonly next_tick_at: Date | null;
  readonly last_tick_at: Date | null;
  readonly last_run_id: string | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

interface PauseResult {
  readonly schedule_name: string;
  readonly flow_slug: string;
  readonly paused: boolean;
  readonly paused_at: string | null;
  readonly changed: boolean;
}

export class ScheduleControl {
  constructor(private readonly router: RunRouter) {}

  /** Every schedule, by name (with several databases, all of theirs). */
  async list(): Promise<ScheduleInfo[]> {
    const pages = await Promise.all(
      this.router.all().map((target) => target.database.query<ScheduleRow>(sql.listSchedules)),
    );
    return pages
      .flat()
      .map(toScheduleInfo)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async setPaused(name: string, paused: boolean): Promise<SchedulePauseState> {
    const method = paused ? 'pauseSchedule' : 'resumeSchedule';
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidOptionsError('name', name, 'the name of a schedule, as listSchedules() returns it', {
        subject: `FlowClient.${method}() argument`,
      });
    }
    let refused: unknown;
    for (const target of this.router.all()) {
      try {
        const [row] = await target.database.query<{ result: PauseResult }>(
          paused ? sql.pauseSchedule : sql.resumeSchedule,
          [name],
        );
        if (row === undefined)
          throw new Error(`pgflow.${paused ? 'pause' : 'resume'}_schedule('${name}') returned nothing.`);
        return toPauseState(row.result);
      } catch (error) {
        if (sqlStateOf(error) !== EngineSqlState.ScheduleNotFound) throw error;
        refused = error;
      }
    }
    const known = (await this.list()).map((schedule) => schedule.name).slice(0, 50);
    throw new ScheduleNotFoundError(name, known, { cause: refused });
  }
}

function toScheduleInfo(row: ScheduleRow): ScheduleInfo {
  return {
    name: row.schedule_name,
    flowSlug: row.flow_slug,
    cron: row.cron,
    timeZone: row.time_zone,
    input: row.input === null ? undefined : row.input,
    overlap: row.overlap,
    catchUp: row.catch_up,
    paused: row.paused_at !== null,
    pausedAt: row.paused_at,
    nextTickAt: row.paused_at === null ? row.next_tick_at : null,
    lastTickAt: row.last_tick_at,
    lastRunId: row.last_run_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toPauseState(result: PauseResult): SchedulePauseState {
  return {
    name: result.schedule_name,
    flowSlug: result.flow_slug,
    paused: result.paused,
    pausedAt: result.paused_at === null ? null : new Date(result.paused_at),
    changed: result.changed,
  };
}
