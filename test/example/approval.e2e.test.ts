/**
 * The example application's approval flow over HTTP: approve_links waits for a reviewer's
 * decision, delivered with POST /runs/:id/signals/approval; a second decision is a 409, an unknown
 * signal name a 409 naming the flow's signals, a malformed run id a 400.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { finishedRun, runSnapshot, useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

it('approve_links waits for the approval signal, then publishes; a second decision is refused', async () => {
  const server = await startServer();
  const started = await server.post<{ runId: string }>('/runs', {
    flow: 'approve_links',
    input: { urls: ['https://example.com/docs'] },
  });
  expect(started.status).toBe(201);
  const { runId } = started.body;

  await waitFor(
    async () => (await runSnapshot(server, runId)).steps.find((step) => step.waitingForSignal === 'approval'),
    { description: 'the review step to wait for its approval' },
  );
  const sent = await server.post(`/runs/${runId}/signals/approval`, { approved: true, reviewer: 'ana' });
  expect(sent).toMatchObject({
    status: 200,
    body: { runId, signalName: 'approval', stepSlug: 'review', delivered: true },
  });

  const run = await finishedRun(server, runId);
  expect(run).toMatchObject({ status: 'completed', output: { publish: { published: ['https://example.com/docs'] } } });

  const again = await server.post<{ code: string; message: string }>(`/runs/${runId}/signals/approval`, {
    approved: false,
    reviewer: 'bob',
  });
  expect(again).toMatchObject({ status: 409, body: { code: 'PGFLOW_SIGNAL_REFUSED' } });

  const unknown = await server.post<{ runId: string }>('/runs', {
    flow: 'approve_links',
    input: { urls: [] },
  });
  const wrongName = await server.post<{ message: string }>(`/runs/${unknown.body.runId}/signals/aproval`, {});
  expect(wrongName.status).toBe(409);
  expect(wrongName.body.message).toContain("'approval'");
  const badId = await server.post('/runs/not-a-uuid/signals/approval', {});
  expect(badId.status).toBe(400);
});
