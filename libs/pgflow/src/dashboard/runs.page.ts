import type { RunPage } from '../client/run-control.types.ts';
import { dashboardPage, durationText, statusBadge, timeText, waitingForSlot } from './dashboard-layout.ts';
import { html } from './html.ts';

/** The filters of the runs page, as the query string gives them (validated by the controller). */
export interface RunFilters {
  readonly flow?: string;
  readonly status?: string;
  /** datetime-local values, read as UTC. */
  readonly after?: string;
  readonly before?: string;
  readonly cursor?: string;
}

const STATUSES = ['started', 'completed', 'failed', 'cancelled'];

/** The runs page: filters, the page of runs newest first, and links to the first and the next page. */
export function runsPage(
  basePath: string,
  flowSlugs: readonly string[],
  filters: RunFilters,
  page: RunPage | undefined,
  problem?: string,
): string {
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filters, cursor: undefined, ...extra })) {
      if (value !== undefined && value !== '') params.set(key, value);
    }
    const text = params.toString();
    return `${basePath}/runs${text === '' ? '' : `?${text}`}`;
  };
  const option = (value: string, selected: string | undefined, label = value) =>
    html`<option value="${value}"${selected === value ? html` selected` : null}>${label}</option>`;
  const form = html`<form class="filters" method="get" action="${basePath}/runs">
    <label>Flow <select name="flow">${option('', filters.flow, 'all')}${flowSlugs.map((slug) =>
      option(slug, filters.flow),
    )}</select></label>
    <label>Status <select name="status">${option('', filters.status, 'all')}${STATUSES.map((status) =>
      option(status, filters.status),
    )}</select></label>
    <label>Started after (UTC) <input type="datetime-local" step="1" name="after" value="${filters.after ?? ''}"></label>
    <label>Started before (UTC) <input type="datetime-local" step="1" name="before" value="${filters.before ?? ''}"></label>
    <button type="submit">Filter</button>
  </form>`;
  const rows = (page?.runs ?? []).map(
    (run) => html`<tr data-run="${run.runId}" data-status="${run.status}">
      <td><a href="${basePath}/runs/${run.runId}"><code>${run.runId}</code></a></td>
      <td>${run.flowSlug}</td>
      <td>${statusBadge(run.status)}${waitingForSlot(run)}</td>
      <td>${timeText(run.startedAt)}</td>
      <td>${timeText(run.completedAt ?? run.failedAt ?? run.cancelledAt)}</td>
      <td class="number">${durationText(run.startedAt, run.completedAt ?? run.failedAt ?? run.cancelledAt)}</td>
    </tr>`,
  );
  const body = html`<h1>Runs</h1>${form}
    ${problem === undefined ? null : html`<div class="error-box" role="alert">${problem}</div>`}
    <table class="runs">
      <thead><tr><th>Run</th><th>Flow</th><th>Status</th><th>Started</th><th>Ended</th><th>Duration</th></tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="6">No runs match.</td></tr>` : rows}</tbody>
    </table>
    <nav class="pager">
      ${filters.cursor === undefined ? null : html`<a href="${query({})}" rel="first">First page</a>`}
      ${page?.nextCursor == null ? null : html`<a href="${query({ cursor: page.nextCursor })}" rel="next">Next page</a>`}
    </nav>`;
  return dashboardPage(basePath, 'Runs', body);
}
