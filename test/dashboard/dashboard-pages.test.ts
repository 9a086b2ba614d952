/**
 * The dashboard in a real headless Chromium: the runs list with its filters and pages, a run's DAG
 * with each step's status colour, a live update (over server-sent events) as a step completes, an
 * output holding `<script>` shown as text, and pausing a flow from the flows page.
 */
import type { Page } from 'playwright-core';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useBrowser } from './support/browser.ts';
import { startDashboardApp } from './support/dashboard-app.ts';
import { HeldFlow, HeldGate, QuickFlow, SCRIPT_OUTPUT } from './support/dashboard-flows.ts';

const db = useTestDatabase();
const apps = useApps();
const browser = useBrowser();

/** The status and fill of each step's box in the run page's DAG, by step. */
async function stepFills(page: Page): Promise<Record<string, { status: string; fill: string }>> {
  const nodes = await page.locator('svg.dag g.step').evaluateAll((groups) =>
    groups.map((group) => [
      group.getAttribute('data-step') ?? '',
      {
        status: group.getAttribute('data-status') ?? '',
        fill: group.querySelector('rect')?.getAttribute('fill') ?? '',
      },
    ]),
  );
  return Object.fromEntries(nodes);
}

it('lists runs, opens one, draws its DAG in status colours and updates it live as a step completes', async () => {
  const server = await startDashboardApp(apps, db.url);
  server.app.get(HeldGate).reset();
  const run = await server.client.start(HeldFlow, { n: 1 });
  await waitFor(
    async () => (await server.client.getRun(run.runId)).steps.find((s) => s.stepSlug === 'held')?.status === 'started',
    {
      timeoutMs: 20_000,
      description: 'the held step to start',
    },
  );
  const page = await (await browser.context()).newPage();

  await page.goto(`${server.url}/runs`);
  await page.click(`tr[data-run="${run.runId}"] a`);
  await page.waitForURL(`${server.url}/runs/${run.runId}`);

  expect(await stepFills(page)).toEqual({
    first: { status: 'completed', fill: '#4ade80' },
    held: { status: 'started', fill: '#60a5fa' },
    last: { status: 'created', fill: '#d1d5db' },
  });
  // Edges: first → held → last.
  expect(await page.locator('svg.dag path.edge').count()).toBe(2);

  // The same document updates: no navigation, no reload.
  await page.evaluate('window.__samePage = true');
  server.app.get(HeldGate).gate.open();
  await page.waitForSelector('#run-live[data-run-status="completed"]', { timeout: 20_000 });

  expect(await page.evaluate('window.__samePage')).toBe(true);
  expect(await stepFills(page)).toEqual({
    first: { status: 'completed', fill: '#4ade80' },
    held: { status: 'completed', fill: '#4ade80' },
    last: { status: 'completed', fill: '#4ade80' },
  });
  expect(await page.textContent('tr[data-step="last"] .step-output')).toBe('"after released"');
});

it('shows an output holding <script> as text, without running it', async () => {
  const server = await startDashboardApp(apps, db.url);
  const gate = server.app.get(HeldGate);
  gate.reset();
  const run = await server.client.start(HeldFlow, { n: 2 });
  gate.gate.open();
  await run.wait({ timeoutMs: 20_000 });
  const page = await (await browser.context()).newPage();

  await page.goto(`${server.url}/runs/${run.runId}`);

  expect(await page.textContent('tr[data-step="first"] .step-output')).toBe(
    JSON.stringify({ note: SCRIPT_OUTPUT }, null, 2),
  );
  expect(await page.evaluate('window.__injected')).toBeUndefined();
  expect(await page.locator('#run-live script, #run-live b').count()).toBe(0);
});

it('filters the runs list by flow and status and pages through it', async () => {
  const server = await startDashboardApp(apps, db.url);
  const quick = await server.client.startMany(
    QuickFlow,
    Array.from({ length: 55 }, (_, n) => ({ n })),
  );
  await Promise.all(quick.map((handle) => handle.wait({ timeoutMs: 30_000 })));
  const page = await (await browser.context()).newPage();

  await page.goto(`${server.url}/runs`);
  await page.selectOption('select[name="flow"]', 'dash_quick');
  await page.selectOption('select[name="status"]', 'completed');
  await page.click('form.filters button[type="submit"]');
  await page.waitForURL(/flow=dash_quick/);

  const firstPage = await page
    .locator('tr[data-run]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')));
  expect(firstPage).toHaveLength(50);
  await page.click('a[rel="next"]');
  await page.waitForURL(/cursor=/);
  const secondPage = await page
    .locator('tr[data-run]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')));
  expect(secondPage).toHaveLength(5);
  expect(new Set([...firstPage, ...secondPage])).toEqual(new Set(quick.map((handle) => handle.runId)));
  expect(await page.locator('a[rel="next"]').count()).toBe(0);
  // The status filter is kept on the next page: only completed runs of the flow.
  expect(await page.locator('tr[data-run]:not([data-status="completed"])').count()).toBe(0);
});

it('answers a malformed filter or run id with the reason (400), and an unknown run with 404', async () => {
  const server = await startDashboardApp(apps, db.url);
  const page = await (await browser.context()).newPage();

  const bad = await page.goto(`${server.url}/runs?status=lost`);
  expect(bad?.status()).toBe(400);
  expect(await page.textContent('[role="alert"]')).toContain('"lost"');

  const missing = await page.goto(`${server.url}/runs/00000000-0000-4000-8000-000000000000`);
  expect(missing?.status()).toBe(404);
  const malformed = await page.goto(`${server.url}/runs/not-a-run-id`);
  expect(malformed?.status()).toBe(400);
  expect(await page.textContent('[role="alert"]')).toContain('"not-a-run-id"');
  // The live updates of an unknown run: refused at once, not an endless stream.
  const events = await page.request.get(`${server.url}/runs/00000000-0000-4000-8000-000000000000/events`);
  expect(events.status()).toBe(404);
});

it('pauses and resumes a flow from the flows page, with its run counts', async () => {
  const server = await startDashboardApp(apps, db.url);
  await (await server.client.start(QuickFlow, { n: 1 })).wait({ timeoutMs: 20_000 });
  const [count] = await db.query<{ runs: string }>(
    "select count(*) as runs from pgflow.runs where flow_slug = 'dash_quick' and status = 'completed'",
  );
  const page = await (await browser.context()).newPage();

  await page.goto(server.url);
  expect(await page.textContent('tr[data-flow="dash_quick"] td[data-count="completed"]')).toBe(count?.runs);
  await page.click('tr[data-flow="dash_quick"] button[data-action="pause"]');
  await page.waitForSelector('tr[data-flow="dash_quick"] .paused');

  const [paused] = await db.query<{ paused_at: Date | null }>(
    "select paused_at from pgflow.flows where flow_slug = 'dash_quick'",
  );
  expect(paused?.paused_at).toBeInstanceOf(Date);

  await page.click('tr[data-flow="dash_quick"] button[data-action="resume"]');
  await page.waitForSelector('tr[data-flow="dash_quick"] button[data-action="pause"]');
  const [resumed] = await db.query<{ paused_at: Date | null }>(
    "select paused_at from pgflow.flows where flow_slug = 'dash_quick'",
  );
  expect(resumed?.paused_at).toBeNull();
});

it('lists the schedules on the flows page, and pauses and resumes one', async () => {
  const server = await startDashboardApp(apps, db.url);
  const page = await (await browser.context()).newPage();
  await page.goto(server.url);

  const row = 'tr[data-schedule="dash_nightly"]';
  expect(await page.textContent(`${row} code`)).toBe('0 3 * * *');
  expect(await page.textContent(`${row} .schedule-state`)).toBe('active');
  await page.click(`${row} button[data-action="pause-schedule"]`);
  await page.waitForSelector(`${row} .paused`);
  const [paused] = await db.query<{ paused_at: Date | null }>(
    "select paused_at from pgflow.schedules where schedule_name = 'dash_nightly'",
  );
  expect(paused?.paused_at).toBeInstanceOf(Date);

  await page.click(`${row} button[data-action="resume-schedule"]`);
  await page.waitForSelector(`${row} button[data-action="pause-schedule"]`);
  const [resumed] = await db.query<{ paused_at: Date | null }>(
    "select paused_at from pgflow.schedules where schedule_name = 'dash_nightly'",
  );
  expect(resumed?.paused_at).toBeNull();
  // An unknown schedule is a 404 page that says so.
  const unknown = await page.request.post(`${server.url}/schedules/no_such_schedule/pause`, {
    headers: { origin: new URL(server.url).origin },
  });
  expect(unknown.status()).toBe(404);
});
