/**
 * A run page's live stream at shutdown: a stream open when the application begins to shut down
 * ends, and one asked for after that (a page's EventSource reconnecting to the stream that just
 * ended, which browsers do within seconds) ends at once: else it would hold the HTTP server's close
 * until the page goes away (seen as a 90 s hang of app.close() on a loaded machine). Its connection
 * is closed too: a keep-alive connection would carry the page's reconnections to the closing server
 * every few seconds, never idle long enough to be dropped (a 90 s hang in CI, one run in six here).
 */
import { connect } from 'node:net';
import { RunUpdates } from '../../libs/pgflow/src/dashboard/run-updates.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { startDashboardApp } from './support/dashboard-app.ts';
import { HeldFlow, HeldGate } from './support/dashboard-flows.ts';

/**
 * A GET of `url` on a raw keep-alive HTTP/1.1 connection, as a browser's EventSource sends it:
 * what the server sends, and whether it closed the connection.
 */
function keepAliveGet(url: string): { received: () => string; closed: Promise<void> } {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.write(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nConnection: keep-alive\r\n\r\n`,
  );
  const closed = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  return { received: () => received, closed };
}

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

it('closes the connection of a stream that shutdown ended, so a reconnection cannot reuse it', async () => {
  const server = await startDashboardApp(apps, db.url);
  // Idle keep-alive connections are dropped after this long: far longer than the test may wait.
  server.app.getHttpServer().keepAliveTimeout = 600_000;
  server.app.get(HeldGate).reset();
  const { runId } = await server.client.start(HeldFlow, { n: 1 });

  const stream = keepAliveGet(`${server.url}/runs/${runId}/events`);
  await waitFor(() => stream.received().includes('event: state'), { description: 'the first state' });
  server.app.get(RunUpdates, { strict: false }).beforeApplicationShutdown();
  await stream.closed;
  expect(stream.received()).toMatch(/^HTTP\/1\.1 200/);

  const late = keepAliveGet(`${server.url}/runs/${runId}/events`);
  await late.closed;
  expect(late.received()).toMatch(/^HTTP\/1\.1 200/);
  expect(late.received()).not.toContain('event: state');
  server.app.get(HeldGate).gate.open();
});
