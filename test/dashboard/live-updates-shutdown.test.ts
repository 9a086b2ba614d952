/**
 * A run page's live stream at shutdown: a stream open when the application begins to shut down
 * ends, and one asked for after that (a page's EventSource reconnecting to the stream that just
 * ended, which browsers do within seconds) ends at once: else it would hold the HTTP server's close
 * until the page goes away (seen as a 90 s hang of app.close() on a loaded machine).
 */
import { RunUpdates } from '../../libs/pgflow/src/dashboard/run-updates.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { startDashboardApp } from './support/dashboard-app.ts';
import { HeldFlow, HeldGate } from './support/dashboard-flows.ts';

const db = useTestDatabase();
const apps = useApps();

it('a stream open at shutdown ends, and one asked for once shutdown began ends at once', async () => {
  const server = await startDashboardApp(apps, db.url);
  server.app.get(HeldGate).reset();
  const { runId } = await server.client.start(HeldFlow, { n: 1 });

  const open = await fetch(`${server.url}/runs/${runId}/events`);
  expect(open.status).toBe(200);
  const reader = (open.body as ReadableStream<Uint8Array>).getReader();
  let received = '';
  while (!received.includes('event: state')) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the stream ended before its first state: ${received}`);
    received += new TextDecoder().decode(chunk.value);
  }

  server.app.get(RunUpdates, { strict: false }).beforeApplicationShutdown();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    // Whatever was on its way; the stream ends.
  }
  const reconnected = await fetch(`${server.url}/runs/${runId}/events`);
  expect(reconnected.status).toBe(200);
  expect(await reconnected.text()).not.toContain('event: state');
  server.app.get(HeldGate).gate.open();
});
