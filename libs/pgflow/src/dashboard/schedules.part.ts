import type { ScheduleInfo } from '../schedules/schedule.types.ts';
import { actionButton, timeText } from './dashboard-layout.ts';
import { html, type SafeHtml } from './html.ts';

/** The flows page's schedules (@FlowSchedule): cron, next and last tick, paused state, pause / resume. */
export function schedulesPart(basePath: string, schedules: readonly ScheduleInfo[], readOnly: boolean): SafeHtml {
  if (schedules.length === 0) return html`<h2>Schedules</h2><p class="empty">No schedules (@FlowSchedule).</p>`;
  const rows = schedules.map((schedule) => {
    const action = `${basePath}/schedules/${encodeURIComponent(schedule.name)}`;
    return html`<tr data-schedule="${schedule.name}">
      <td>${schedule.name}</td>
      <td><a href="${basePath}/runs?flow=${encodeURIComponent(schedule.flowSlug)}">${schedule.flowSlug}</a></td>
      <td><code>${schedule.cron}</code> ${schedule.timeZone}</td>
      <td class="schedule-state">${
        schedule.pausedAt === null
          ? 'active'
          : html`<span class="paused">paused</span> since ${timeText(schedule.pausedAt)}`
      }</td>
      <td>${schedule.nextTickAt === null ? '' : timeText(schedule.nextTickAt)}</td>
      <td>${
        schedule.lastTickAt === null
          ? ''
          : schedule.lastRunId === null
            ? timeText(schedule.lastTickAt)
            : html`<a href="${basePath}/runs/${schedule.lastRunId}">${timeText(schedule.lastTickAt)}</a>`
      }</td>
      ${
        readOnly
          ? null
          : html`<td>${
              schedule.pausedAt === null
                ? actionButton(`${action}/pause`, 'Pause', 'pause-schedule')
                : actionButton(`${action}/resume`, 'Resume', 'resume-schedule')
            }</td>`
      }
    </tr>`;
  });
  return html`<h2>Schedules</h2>
    <table class="schedules">
      <thead><tr><th>Schedule</th><th>Flow</th><th>Cron</th><th>State</th><th>Next tick</th><th>Last tick</th>
        ${readOnly ? null : html`<th>Action</th>`}</tr></thead>
      <tbody>${rows}</tbody>
    </table>`;
}
