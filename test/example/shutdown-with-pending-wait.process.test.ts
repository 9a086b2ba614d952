/**
 * SIGTERM while an HTTP request waits for a run (GET /runs/:id/result): the wait ends at the start
 * of the shutdown, so the request gets its answer (503 from the example's exception filter) and
 * the process exits at once, instead of the HTTP server waiting for that request until the wait's
 * own timeout (30 s here, longer than Kubernetes' grace period).
 */
import { buildProcesses, processScript } from '../reliability/support/build.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useExampleProcesses } from './support/example-process.ts';

const db = useTestDatabase();
const startProcess = useExampleProcesses(() => processScript('example-api-process'));

beforeAll(() => buildProcesses(), 300_000);

it('answers a pending GET /runs/:id/result with 503 and exits soon after SIGTERM', async () => {
  const api = startProcess({ DATABASE_URL: db.url });
  const [, port] = await api.line(/^listening on (\d+)$/);
  const base = `http://127.0.0.1:${port}`;
  const started = await fetch(`${base}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ flow: 'analyze_website', input: { url: 'https://example.com/docs' } }),
  });
  const { runId } = (await started.json()) as { runId: string };

  const answer = fetch(`${base}/runs/${runId}/result?timeoutMs=60000`).then(async (response) => ({
    status: response.status,
    body: (await response.json()) as { code?: string },
  }));
  // The request is in the server, waiting: its wait() listens on the run's channel.
  await waitFor(
    async () =>
      (await db.query('select 1 from pg_stat_activity where query = $1', [`listen "pgflow:run:${runId}"`])).length > 0,
    { description: 'the wait to listen for the run' },
  );

  const exit = await api.stop('SIGTERM', 10_000);
  console.log(`exited ${exit.afterMs} ms after SIGTERM`);

  expect(await answer).toEqual({ status: 503, body: expect.objectContaining({ code: 'PGFLOW_SHUTTING_DOWN' }) });
  // Nest's shutdown hook closes the application, then raises the signal again.
  expect([
    { code: 0, signal: null },
    { code: null, signal: 'SIGTERM' },
  ]).toContainEqual({ code: exit.code, signal: exit.signal });
  // The run goes on: nothing cancelled it.
  expect(await db.query('select status from pgflow.runs where run_id = $1', [runId])).toEqual([{ status: 'started' }]);
}, 180_000);
