import type { ServerResponse } from 'node:http';
import { Get, Header, Inject, type MessageEvent, Param, Post, Query, Req, Res, Sse } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlowClient } from '../client/flow.client.ts';
import type { RunStatusValue } from '../client/run.types.ts';
import type { RunPage } from '../client/run-control.types.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLESHEET } from './dashboard-assets.ts';
import {
  assertActionAllowed,
  type DashboardRequest,
  type DashboardResponse,
  httpError,
  sendErrorPage,
  sendPage,
  statusOf,
} from './dashboard-http.ts';
import { PGFLOW_DASHBOARD_OPTIONS, type ResolvedDashboardOptions } from './dashboard-options.ts';
import { DashboardQueries } from './dashboard-queries.ts';
import { flowsPage } from './flows.page.ts';
import { runLivePart, runPage } from './run.page.ts';
import { RunUpdates } from './run-updates.ts';
import { type RunFilters, runsPage } from './runs.page.ts';

/** A datetime-local value ('2026-12-05T09:30' or with seconds), read as UTC. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const RUNS_PER_PAGE = 50;

/**
 * The dashboard's routes, relative to its path. PgflowDashboardModule.forRoot() mounts a subclass at
 * the path it is given, with the guard it is given on the class (so on every route).
 */
export class DashboardController {
  constructor(
    @Inject(PGFLOW_DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    @Inject(FlowClient) private readonly client: FlowClient,
    @Inject(DashboardQueries) private readonly queries: DashboardQueries,
    @Inject(RunUpdates) private readonly updates: RunUpdates,
  ) {}

  @Get()
  async flows(@Res() response: DashboardResponse): Promise<void> {
    const { path, readOnly } = this.options;
    const [flows, schedules] = await Promise.all([this.queries.flows(), this.client.listSchedules()]);
    sendPage(response, flowsPage(path, flows, schedules, readOnly));
  }

  @Get('runs')
  async runs(@Query() query: Record<string, unknown>, @Res() response: DashboardResponse): Promise<void> {
    const filters = filtersOf(query);
    const flowSlugs = await this.queries.flowSlugs();
    let page: RunPage;
    try {
      page = await this.client.listRuns({
        ...(filters.flow === undefined ? {} : { flow: filters.flow }),
        ...(filters.status === undefined ? {} : { status: filters.status as RunStatusValue }),
        ...(filters.after === undefined ? {} : { startedAfter: utcTime('after', filters.after) }),
        ...(filters.before === undefined ? {} : { startedBefore: utcTime('before', filters.before) }),
        ...(filters.cursor === undefined ? {} : { cursor: filters.cursor }),
        limit: RUNS_PER_PAGE,
      });
    } catch (error) {
      const status = statusOf(error);
      if (status === undefined) throw error;
      sendPage(response, runsPage(this.options.path, flowSlugs, filters, undefined, (error as Error).message), 400);
      return;
    }
    sendPage(response, runsPage(this.options.path, flowSlugs, filters, page));
  }

  @Get('runs/:runId')
  async run(@Param('runId') runId: string, @Res() response: DashboardResponse): Promise<void> {
    try {
      const run = await this.client.getRun(runId);
      const graph = await this.queries.graphOfRun(runId, run.flowSlug);
      sendPage(response, runPage({ basePath: this.options.path, run, graph, readOnly: this.options.readOnly }));
    } catch (error) {
      sendErrorPage(response, this.options.path, error);
    }
  }

  /** The run page's live updates: the page's changing part, rendered again after each event of the run. */
  @Sse('runs/:runId/events')
  async runEvents(
    @Param('runId') runId: string,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<Observable<MessageEvent>> {
    // Unknown or malformed ids are refused before the stream opens (404 / 400, not an endless stream).
    const { flowSlug } = await this.client.getRun(runId).catch((error: unknown) => {
      throw httpError(error);
    });
    const graph = await this.queries.graphOfRun(runId, flowSlug);
    const { path, readOnly } = this.options;
    return this.updates.stream(
      runId,
      async (run) => runLivePart({ basePath: path, run, graph, readOnly }).text,
      response,
    );
  }

  @Post('runs/:runId/cancel')
  async cancel(
    @Param('runId') runId: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, `/runs/${runId}`, () =>
      this.client.cancel(runId, { reason: 'cancelled from the dashboard' }),
    );
  }

  @Post('runs/:runId/retry')
  async retry(
    @Param('runId') runId: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, `/runs/${runId}`, () => this.client.retry(runId));
  }

  @Post('flows/:flowSlug/pause')
  async pause(
    @Param('flowSlug') flowSlug: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, '', () => this.client.pauseFlow(flowSlug));
  }

  @Post('flows/:flowSlug/resume')
  async resume(
    @Param('flowSlug') flowSlug: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, '', () => this.client.resumeFlow(flowSlug));
  }

  @Post('schedules/:name/pause')
  async pauseSchedule(
    @Param('name') name: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, '', () => this.client.pauseSchedule(name));
  }

  @Post('schedules/:name/resume')
  async resumeSchedule(
    @Param('name') name: string,
    @Req() request: DashboardRequest,
    @Res() response: DashboardResponse,
  ): Promise<void> {
    assertActionAllowed(request, this.options.readOnly);
    await this.act(response, '', () => this.client.resumeSchedule(name));
  }

  @Get('assets/dashboard.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'max-age=300')
  stylesheet(): string {
    return DASHBOARD_STYLESHEET;
  }

  @Get('assets/dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'max-age=300')
  script(): string {
    return DASHBOARD_SCRIPT;
  }

  /** Runs an action, then sends the browser back to the page it came from (303: GET it again). */
  private async act(response: DashboardResponse, page: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      sendErrorPage(response, this.options.path, error);
      return;
    }
    response.redirect(303, `${this.options.path}${page}`);
  }
}

/** The runs page's filters from its query string (blank fields are no filter). */
function filtersOf(query: Record<string, unknown>): RunFilters {
  const text = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const filters: Record<string, string | undefined> = {
    flow: text('flow'),
    status: text('status'),
    after: text('after'),
    before: text('before'),
    cursor: text('cursor'),
  };
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)) as RunFilters;
}

function utcTime(name: string, value: string): Date {
  const time = new Date(`${value}Z`);
  if (!LOCAL_TIME.test(value) || Number.isNaN(time.getTime())) {
    throw new InvalidOptionsError(name, value, "a time such as '2026-12-05T09:30' (UTC)", {
      subject: 'dashboard runs filter',
    });
  }
  return time;
}
