import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  type CancelRunResult,
  FlowClient,
  type FlowPauseState,
  type RunPage,
  type RunStatusValue,
  type SignalResult,
} from 'nestjs-pgflow';

/**
 * Operating runs: list them, cancel or retry one, signal one, pause or resume a flow. Each endpoint is one
 * FlowClient call; its refusals (a bad cursor, an unknown run or flow, a run that cannot be retried)
 * become HTTP errors in PgflowExceptionFilter.
 */
@Controller()
export class RunOperationsController {
  constructor(private readonly flows: FlowClient) {}

  /** `GET /runs?flow=&status=&limit=&cursor=` → `{ runs, nextCursor }`, newest first. */
  @Get('runs')
  list(
    @Query('flow') flow?: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<RunPage> {
    return this.flows.listRuns({
      ...(flow === undefined ? {} : { flow }),
      ...(status === undefined ? {} : { status: status as RunStatusValue }),
      ...(limit === undefined ? {} : { limit: parseLimit(limit) }),
      ...(cursor === undefined ? {} : { cursor }),
    });
  }

  /** `POST /runs/:id/cancel` with `{ "reason"?: string }` → `{ runId, status, cancelled }`. */
  @Post('runs/:id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @Body() body: unknown): Promise<CancelRunResult> {
    const reason = optionalString(body, 'reason');
    return this.flows.cancel(id, reason === undefined ? {} : { reason });
  }

  /** `POST /runs/:id/retry` with `{ "fromStep"?: string }` → `{ runId }` (the run runs again). */
  @Post('runs/:id/retry')
  @HttpCode(200)
  async retry(@Param('id') id: string, @Body() body: unknown): Promise<{ runId: string }> {
    const fromStep = optionalString(body, 'fromStep');
    const run = await this.flows.retry(id, fromStep === undefined ? {} : { fromStep });
    return { runId: run.runId };
  }

  /**
   * `POST /runs/:id/signals/:name` with the payload as the JSON body → `{ runId, signalName, stepSlug,
   * delivered }`: delivers a signal to the run's step waiting for it (e.g. the approve_links flow's
   * `approval`). A second signal of the name, an ended run or an unknown name is a 409.
   */
  @Post('runs/:id/signals/:name')
  @HttpCode(200)
  signal(@Param('id') id: string, @Param('name') name: string, @Body() payload: unknown): Promise<SignalResult> {
    return this.flows.signal(id, name, payload ?? null);
  }

  /** `POST /flows/:slug/pause` → no worker starts a task of the flow until it is resumed. */
  @Post('flows/:slug/pause')
  @HttpCode(200)
  pause(@Param('slug') slug: string): Promise<FlowPauseState> {
    return this.flows.pauseFlow(slug);
  }

  /** `POST /flows/:slug/resume`. */
  @Post('flows/:slug/resume')
  @HttpCode(200)
  resume(@Param('slug') slug: string): Promise<FlowPauseState> {
    return this.flows.resumeFlow(slug);
  }
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (value.trim() === '' || !Number.isInteger(limit)) {
    throw new BadRequestException(`limit must be a whole number from 1 to 1000, got ${JSON.stringify(value)}.`);
  }
  return limit;
}

/** An optional string field of a JSON body (an empty or absent body has none). */
function optionalString(body: unknown, field: string): string | undefined {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    return undefined;
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException(`The body must be a JSON object, e.g. { "${field}": "..." }, or empty.`);
  }
  const unknown = Object.keys(body).filter((key) => key !== field);
  if (unknown.length > 0) {
    throw new BadRequestException(`Unknown field(s) ${unknown.join(', ')}: the body may only have "${field}".`);
  }
  const value = (body as Record<string, unknown>)[field];
  if (value !== undefined && typeof value !== 'string') {
    throw new BadRequestException(`"${field}" must be a string, got ${JSON.stringify(value)}.`);
  }
  return value as string | undefined;
}
