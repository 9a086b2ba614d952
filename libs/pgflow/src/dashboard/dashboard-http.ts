/**
 * The little of Express's request and response the dashboard uses, typed here so that the library
 * does not depend on Express's types, and the answers every route shares.
 */
import { ForbiddenException, HttpException } from '@nestjs/common';
import { PgflowError, PgflowErrorCode } from '../errors/pgflow.error.ts';
import { dashboardPage } from './dashboard-layout.ts';
import { html } from './html.ts';

export interface DashboardRequest {
  get(header: string): string | undefined;
  readonly method: string;
}

export interface DashboardResponse {
  status(code: number): DashboardResponse;
  type(contentType: string): DashboardResponse;
  set(header: string, value: string): DashboardResponse;
  send(body: string): void;
  redirect(status: number, url: string): void;
}

/** Sends a whole HTML page; never cached (it shows live state). */
export function sendPage(response: DashboardResponse, page: string, status = 200): void {
  response.status(status).type('text/html; charset=utf-8').set('Cache-Control', 'no-store').send(page);
}

/** The HTTP status of a library error a page or an action ran into (other errors go to Nest: 500). */
export function statusOf(error: unknown): number | undefined {
  if (!(error instanceof PgflowError)) return undefined;
  switch (error.code) {
    case PgflowErrorCode.InvalidOptions:
      return 400;
    case PgflowErrorCode.RunNotFound:
    case PgflowErrorCode.FlowNotFound:
    case PgflowErrorCode.ScheduleNotFound:
      return 404;
    case PgflowErrorCode.RunNotRetryable:
      return 409;
    default:
      return undefined;
  }
}

/** A page telling what went wrong (the error's message, as text), or the error rethrown for Nest. */
export function sendErrorPage(response: DashboardResponse, basePath: string, error: unknown): void {
  const status = statusOf(error);
  if (status === undefined) throw error;
  const body = html`<h1>${status === 404 ? 'Not found' : 'Refused'}</h1>
    <div class="error-box" role="alert">${(error as Error).message}</div>
    <p><a href="${basePath}">Back to the flows</a></p>`;
  sendPage(response, dashboardPage(basePath, 'Error', body), status);
}

/**
 * Refuses an action when the dashboard is read-only, or when the browser says the form was posted
 * from another site (Origin or Sec-Fetch-Site): a guard that reads a cookie would let any site that
 * the user visits post the dashboard's forms otherwise.
 */
export function assertActionAllowed(request: DashboardRequest, readOnly: boolean): void {
  if (readOnly) {
    throw new ForbiddenException(
      'The pgflow dashboard is read-only (PgflowDashboardModule.forRoot({ readOnly: true })): actions are refused.',
    );
  }
  const origin = request.get('origin');
  const host = request.get('host');
  let sameOrigin = true;
  if (origin !== undefined && origin !== 'null' && host !== undefined) {
    try {
      sameOrigin = new URL(origin).host === host;
    } catch {
      sameOrigin = false;
    }
  }
  if (!sameOrigin || request.get('sec-fetch-site') === 'cross-site') {
    throw new ForbiddenException(
      `The pgflow dashboard refuses actions posted from another site (Origin ${origin ?? 'none'}, host ${host ?? 'none'}).`,
    );
  }
}

/** A library error as the HTTP error Nest answers with (its status per {@link statusOf}), others as they are. */
export function httpError(error: unknown): unknown {
  const status = statusOf(error);
  return status === undefined ? error : new HttpException((error as Error).message, status, { cause: error });
}
