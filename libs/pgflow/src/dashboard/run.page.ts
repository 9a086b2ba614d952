import type { RunSnapshot, StepSnapshot } from '../client/run.types.ts';
import {
  actionButton,
  dashboardPage,
  durationText,
  statusBadge,
  timeText,
  waitingForSlot,
} from './dashboard-layout.ts';
import type { GraphStep } from './dashboard-queries.ts';
import { html, jsonText, type SafeHtml } from './html.ts';
import { runGraph, STEP_COLOURS } from './run-graph.ts';

/** What the run page shows: the run, its flow's graph, and whether actions are offered. */
export interface RunView {
  readonly basePath: string;
  readonly run: RunSnapshot;
  readonly graph: readonly GraphStep[];
  readonly readOnly: boolean;
}

/** The run page: its live part (replaced on every change, see {@link runLivePart}) under the title. */
export function runPage(view: RunView): string {
  const { basePath, run } = view;
  const body = html`<h1>Run <code>${run.runId}</code></h1>
    <div id="run-live" data-run-status="${run.status}"
      data-live-events="${basePath}/runs/${run.runId}/events">${runLivePart(view)}</div>`;
  return dashboardPage(basePath, `Run ${run.runId}`, body);
}

/**
 * The part of the run page that changes: facts, actions, the DAG, the steps and the run's input and
 * output. Sent again, whole, over server-sent events each time the run changes.
 */
export function runLivePart({ basePath, run, graph, readOnly }: RunView): SafeHtml {
  const ended = run.completedAt ?? run.failedAt ?? run.cancelledAt;
  const action = `${basePath}/runs/${run.runId}`;
  const actions = readOnly
    ? null
    : html`<div class="actions">
        ${run.status === 'started' ? actionButton(`${action}/cancel`, 'Cancel run', 'cancel', true) : null}
        ${run.status === 'failed' || run.status === 'cancelled' ? actionButton(`${action}/retry`, 'Retry run', 'retry') : null}
      </div>`;
  const legend = Object.entries(STEP_COLOURS).map(
    ([status, colour]) => html`<span style="--colour: ${colour}">${status}</span>`,
  );
  return html`<dl class="facts">
      <dt>Flow</dt><dd><a href="${basePath}/runs?flow=${encodeURIComponent(run.flowSlug)}">${run.flowSlug}</a>${
        run.alias === null ? null : html` (alias ${run.alias})`
      }</dd>
      <dt>Status</dt><dd class="run-status">${statusBadge(run.status)}${waitingForSlot(run)}</dd>
      <dt>Started</dt><dd>${timeText(run.startedAt)}</dd>
      <dt>Ended</dt><dd>${timeText(ended)}</dd>
      <dt>Duration</dt><dd>${durationText(run.startedAt, ended)}</dd>
      ${run.cancelReason === null ? null : html`<dt>Cancel reason</dt><dd>${run.cancelReason}</dd>`}
      ${
        run.parent === null
          ? null
          : html`<dt>Parent</dt><dd><a href="${basePath}/runs/${run.parent.runId}">${run.parent.runId}</a>
              (step ${run.parent.stepSlug}, task ${run.parent.taskIndex})</dd>`
      }
    </dl>
    ${actions}
    <h2>Steps</h2>
    <div class="legend">${legend}</div>
    ${runGraph(graph, run.steps)}
    <table class="steps">
      <thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Duration</th><th>Error</th><th>Output</th></tr></thead>
      <tbody>${run.steps.map(stepRow)}</tbody>
    </table>
    ${childRuns(basePath, run)}
    <h2>Input</h2><pre class="run-input">${jsonText(run.input)}</pre>
    <h2>Output</h2><pre class="run-output">${run.status === 'completed' ? jsonText(run.output) : ''}</pre>`;
}

/** Subflows: the child runs the run's subflow steps started, each a link to its page. */
function childRuns(basePath: string, run: RunSnapshot): SafeHtml | null {
  if (run.children.length === 0) return null;
  return html`<h2>Child runs</h2>
    <table class="children">
      <thead><tr><th>Run</th><th>Flow</th><th>Step</th><th>Task</th><th>Status</th></tr></thead>
      <tbody>${run.children.map(
        (child) => html`<tr data-child-run="${child.runId}">
          <td><a href="${basePath}/runs/${child.runId}"><code>${child.runId}</code></a></td>
          <td>${child.flowSlug}</td><td>${child.stepSlug}</td><td class="number">${child.taskIndex}</td>
          <td>${statusBadge(child.status)}</td>
        </tr>`,
      )}</tbody>
    </table>`;
}

function stepRow(step: StepSnapshot): SafeHtml {
  const ended = step.completedAt ?? step.failedAt ?? step.skippedAt ?? step.cancelledAt;
  const attempts = step.tasks.reduce((sum, task) => sum + task.attemptsCount, 0);
  // A failing step's error, else the last error of a task being retried.
  const error = step.errorMessage ?? step.tasks.findLast((task) => task.errorMessage !== null)?.errorMessage ?? null;
  return html`<tr data-step="${step.stepSlug}" data-status="${step.status}">
    <td>${step.stepSlug}</td>
    <td>${statusBadge(step.status)}${step.skipReason === null ? null : html` (${step.skipReason})`}${
      step.waitingForSignal === null
        ? null
        : html` <span class="step-waiting">waiting for signal '${step.waitingForSignal}'</span>`
    }</td>
    <td class="number">${step.tasks.length > 1 ? `${attempts} (${step.tasks.length} tasks)` : attempts}</td>
    <td class="number">${durationText(step.startedAt, ended)}</td>
    <td><pre class="step-error">${error ?? ''}</pre></td>
    <td><pre class="step-output">${step.status === 'completed' ? jsonText(step.output) : ''}</pre></td>
  </tr>`;
}
