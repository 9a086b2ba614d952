/**
 * The dashboard's stylesheet and script, served by the module itself (no CDN, no build step). The
 * script only keeps a run page live: it listens to the page's server-sent events and swaps in the
 * run's part of the page, rendered (and escaped) by the server.
 */
export const DASHBOARD_STYLESHEET = `
:root { font-family: system-ui, sans-serif; color: #111827; background: #f9fafb; }
body { margin: 0; }
header { background: #1f2937; color: #f9fafb; padding: 10px 20px; display: flex; gap: 20px; align-items: center; }
header a { color: #e5e7eb; text-decoration: none; } header a:hover { text-decoration: underline; }
header strong { margin-right: 12px; }
main { padding: 16px 20px; }
h1 { font-size: 1.3rem; margin: 4px 0 14px; } h2 { font-size: 1.05rem; margin: 18px 0 8px; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.82rem; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; max-height: 14em; overflow: auto; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8rem; }
.status-started { background: #dbeafe; } .status-completed { background: #dcfce7; }
.status-failed { background: #fee2e2; } .status-cancelled { background: #fef3c7; }
.status-created, .status-skipped { background: #f3f4f6; }
.paused { color: #b45309; font-weight: 600; }
.run-waiting { color: #b45309; font-size: 0.85rem; }
form.inline { display: inline; margin: 0; }
button { cursor: pointer; border: 1px solid #9ca3af; background: #fff; border-radius: 4px; padding: 3px 10px; }
button.danger { border-color: #dc2626; color: #b91c1c; }
.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; font-size: 0.8rem; gap: 2px; }
.pager { margin-top: 10px; display: flex; gap: 16px; }
.error-box { background: #fee2e2; border: 1px solid #fca5a5; padding: 8px 12px; margin-bottom: 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin-bottom: 12px; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.actions { display: flex; gap: 8px; margin-bottom: 12px; }
svg.dag { background: #fff; border: 1px solid #e5e7eb; display: block; max-width: 100%; }
svg.dag .edge { fill: none; stroke: #6b7280; stroke-width: 1.5; }
svg.dag rect { stroke: #374151; stroke-width: 1; }
svg.dag .step-name { font-size: 13px; font-weight: 600; } svg.dag .step-status { font-size: 11px; }
.legend { display: flex; gap: 12px; font-size: 0.8rem; margin: 6px 0 4px; }
.legend span::before { content: ''; display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  background: var(--colour); border: 1px solid #374151; }
`;

export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  const live = document.querySelector('[data-live-events]');
  if (live === null) return;
  const source = new EventSource(live.getAttribute('data-live-events'));
  source.addEventListener('state', (event) => {
    const state = JSON.parse(event.data);
    live.innerHTML = state.html;
    live.setAttribute('data-run-status', state.status);
  });
  window.addEventListener('pagehide', () => source.close());
})();
`;
