/**
 * The dashboard's actions and protection in a real headless Chromium: the cancel button cancels the
 * run, the guard refuses a request without its token (pages, live updates and actions alike), and
 * a read-only dashboard shows no action and refuses the action routes.
 */

import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useBrowser } from './support/browser.ts';
import { DASHBOARD_TOKEN, type DashboardApp, startDashboardApp, TokenGuard } from './support/dashboard-app.ts';
import { HeldFlow, HeldGate } from './support/dashboard-flows.ts';

const db = useTestDatabase();
const apps = useApps();
const browser = useBrowser();

/** Starts a run of HeldFlow and waits until its `held` step runs (the run stays started). */
async function heldRun(server: DashboardApp): Promise<string> {
  server.app.get(HeldGate).reset();
  const { runId } = await server.client.start(HeldFlow, { n: 1 });
  await waitFor(
    async () =>
      (await server.client.getRun(runId)).steps.find((step) => step.stepSlug === 'held')?.status === 'started',
    { timeoutMs: 20_000, description: 'the held step to start' },
  );
  return runId;
}

async function runStatus(runId: string): Promise<string | undefined> {
  const [row] = await db.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [runId]);
  return row?.status;
}

it('cancels a run with the cancel button, then retries it with the retry button', async () => {
  const server = await startDashboardApp(apps, db.url);
  const runId = await heldRun(server);
  const page = await (await browser.context()).newPage();
  await page.goto(`${server.url}/runs/${runId}`);

  await page.click('button[data-action="cancel"]');
  await page.waitForSelector('#run-live[data-run-status="cancelled"]');

  expect(await runStatus(runId)).toBe('cancelled');
  expect(await page.locator('button[data-action="cancel"]').count()).toBe(0);
  expect(await page.locator('button[data-action="retry"]').count()).toBe(1);
  expect(await page.textContent('.facts')).toContain('cancelled from the dashboard');

  // Retry starts it again from where it stopped: the run is started again, its completed step kept,
  // and the worker that saw the cancel runs it to the end (the page follows it live).
  await page.click('button[data-action="retry"]');
  await page.waitForSelector('#run-live[data-run-status="started"]');
  expect(await page.getAttribute('tr[data-step="first"]', 'data-status')).toBe('completed');
  server.app.get(HeldGate).gate.open();
  await page.waitForSelector('#run-live[data-run-status="completed"]', { timeout: 30_000 });
  expect(await runStatus(runId)).toBe('completed');
});

it('refuses every route to a request without the guard token, and serves one with it', async () => {
  const server = await startDashboardApp(apps, db.url, { guard: TokenGuard });
  const runId = await heldRun(server);
  const anonymous = await (await browser.context()).newPage();

  for (const route of ['', '/runs', `/runs/${runId}`, `/runs/${runId}/events`, '/assets/dashboard.js']) {
    const response = await anonymous.goto(`${server.url}${route}`);
    expect({ route, status: response?.status() }).toEqual({ route, status: 403 });
  }
  const post = await anonymous.request.post(`${server.url}/runs/${runId}/cancel`);
  expect(post.status()).toBe(403);
  expect(await runStatus(runId)).toBe('started');

  const admin = await (await browser.context({ extraHTTPHeaders: { 'x-dashboard-token': DASHBOARD_TOKEN } })).newPage();
  const response = await admin.goto(`${server.url}/runs/${runId}`);
  expect(response?.status()).toBe(200);
  expect(await admin.locator('svg.dag g.step').count()).toBe(3);
  server.app.get(HeldGate).gate.open();
  await admin.waitForSelector('#run-live[data-run-status="completed"]', { timeout: 20_000 });
});

it('hides the actions when read-only and refuses their routes with 403, changing nothing', async () => {
  const server = await startDashboardApp(apps, db.url, { readOnly: true });
  const runId = await heldRun(server);
  const page = await (await browser.context()).newPage();

  await page.goto(`${server.url}/runs/${runId}`);
  expect(await page.locator('svg.dag g.step').count()).toBe(3);
  expect(await page.locator('#run-live button').count()).toBe(0);
  await page.goto(server.url);
  expect(await page.locator('tr[data-flow="dash_held"]').count()).toBe(1);
  expect(await page.locator('button').count()).toBe(0);

  const cancel = await page.request.post(`${server.url}/runs/${runId}/cancel`);
  expect(cancel.status()).toBe(403);
  expect(await cancel.text()).toContain('read-only');
  const pause = await page.request.post(`${server.url}/flows/dash_held/pause`);
  expect(pause.status()).toBe(403);
  expect(await runStatus(runId)).toBe('started');
  const [flow] = await db.query<{ paused_at: Date | null }>(
    "select paused_at from pgflow.flows where flow_slug = 'dash_held'",
  );
  expect(flow?.paused_at).toBeNull();
  server.app.get(HeldGate).gate.open();
});

it('refuses an action posted from another site', async () => {
  const server = await startDashboardApp(apps, db.url);
  const runId = await heldRun(server);
  const page = await (await browser.context()).newPage();

  const response = await page.request.post(`${server.url}/runs/${runId}/cancel`, {
    headers: { origin: 'https://evil.example' },
  });

  expect(response.status()).toBe(403);
  expect(await runStatus(runId)).toBe('started');
  server.app.get(HeldGate).gate.open();
});
