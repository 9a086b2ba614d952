import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { FlowClient, type ScheduleInfo, type SchedulePauseState } from 'nestjs-pgflow';

/**
 * The flows' schedules (`@FlowSchedule()`): list them, pause or resume one on every replica. An
 * unknown name becomes a 404 in PgflowExceptionFilter.
 */
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly flows: FlowClient) {}

  /** `GET /schedules` → `{ schedules }`: cron, time zone, paused or not, next and last tick. */
  @Get()
  async list(): Promise<{ schedules: ScheduleInfo[] }> {
    return { schedules: await this.flows.listSchedules() };
  }

  /** `POST /schedules/:name/pause` → no replica fires it until it is resumed (restarts included). */
  @Post(':name/pause')
  @HttpCode(200)
  pause(@Param('name') name: string): Promise<SchedulePauseState> {
    return this.flows.pauseSchedule(name);
  }

  /** `POST /schedules/:name/resume` → it fires again from its next tick. */
  @Post(':name/resume')
  @HttpCode(200)
  resume(@Param('name') name: string): Promise<SchedulePauseState> {
    return this.flows.resumeSchedule(name);
  }
}
