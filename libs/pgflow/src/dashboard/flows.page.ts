import type { ScheduleInfo } from '../schedules/schedule.types.ts';
import { actionButton, dashboardPage, timeText } from './dashboard-layout.ts';
import type { FlowOverview } from './dashboard-queries.ts';
import { html } from './html.ts';
import { schedulesPart } from './schedules.part.ts';

const STATUSES = ['started', 'completed', 'failed', 'cancelled'] as const;

/**
 * The flows page: each flow's run counts by status and whether it is paused, with pause / resume;
 * then the schedules.
 */
export function flowsPage(
  basePath: string,
  flows: readonly FlowOverview[],
  schedules: readonly ScheduleInfo[],
  readOnly: boolean,
): string {
  const rows = flows.map((flow) => {
    const runsOf = (status?: string) =>
      `${basePath}/runs?flow=${encodeURIComponent(flow.flowSlug)}${status === undefined ? '' : `&status=${status}`}`;
    const action = `${basePath}/flows/${encodeURIComponent(flow.flowSlug)}`;
    return html`<tr data-flow="${flow.flowSlug}">
      <td><a href="${runsOf()}">${flow.flowSlug}</a></td>
      <td>${flow.alias ?? ''}</td>
      <td class="flow-state">${
        flow.pausedAt === null
          ? 'active'
          : html`<span class="paused" title="${timeText(flow.pausedAt)}">paused</span> since ${timeText(flow.pausedAt)}`
      }</td>
      ${STATUSES.map(
        (status) =>
          html`<td class="number" data-count="${status}"><a href="${runsOf(status)}">${
            flow.counts[status] ?? 0
          }</a></td>`,
      )}
      ${
        readOnly
          ? null
          : html`<td>${
              flow.pausedAt === null
                ? actionButton(`${action}/pause`, 'Pause', 'pause')
                : actionButton(`${action}/resume`, 'Resume', 'resume')
            }</td>`
      }
    </tr>`;
  });
  const body = html`<h1>Flows</h1>
    <table class="flows">
      <thead><tr><th>Flow</th><th>Alias</th><th>State</th>
        ${STATUSES.map((status) => html`<th>${status}</th>`)}${readOnly ? null : html`<th>Action</th>`}</tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="8">No flows in the database yet.</td></tr>` : rows}</tbody>
    </table>
    ${schedulesPart(basePath, schedules, readOnly)}`;
  return dashboardPage(basePath, 'Flows', body);
}
