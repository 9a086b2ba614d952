import { html, type SafeHtml } from './html.ts';

/** A whole dashboard page: the header with its navigation, the page's body, the stylesheet and script. */
export function dashboardPage(basePath: string, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · pgflow</title>
  <link rel="stylesheet" href="${basePath}/assets/dashboard.css">
  <script src="${basePath}/assets/dashboard.js" defer></script>
</head>
<body>
  <header><strong>pgflow</strong><a href="${basePath}">Flows</a><a href="${basePath}/runs">Runs</a></header>
  <main>${body}</main>
</body>
</html>
`.text;
}

/** A time as text, in UTC to the millisecond (empty when null). */
export function timeText(time: Date | null | undefined): string {
  return time == null ? '' : `${time.toISOString().slice(0, 23).replace('T', ' ')} UTC`;
}

/** How long from `start` to `end` (to now while running), for people: '350 ms', '2.4 s', '3 min 5 s'. */
export function durationText(start: Date | null, end: Date | null, now = new Date()): string {
  if (start === null) return '';
  const ms = Math.max(0, (end ?? now).getTime() - start.getTime());
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A status as a coloured badge. */
export function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status}">${status}</span>`;
}

/**
 * A run over its key's concurrency limit: 'waiting for a slot (key acme)' after its status; null for
 * any other run.
 */
export function waitingForSlot(run: {
  readonly waitingForSlot: boolean;
  readonly concurrencyKey: string | null;
}): SafeHtml | null {
  if (!run.waitingForSlot) return null;
  return html` <span class="run-waiting">waiting for a slot (key ${run.concurrencyKey ?? ''})</span>`;
}

/** A form that POSTs to `action` with one button (the actions: cancel, retry, pause, resume). */
export function actionButton(action: string, label: string, name: string, danger = false): SafeHtml {
  return html`<form class="inline" method="post" action="${action}"><button type="submit" name="${name}"
    class="${danger ? 'danger' : ''}" data-action="${name}">${label}</button></form>`;
}
