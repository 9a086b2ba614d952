/**
 * The example application's HTTP API, end to end (see http-api-runs.e2e.test.ts): operating runs
 * (listing, pausing a flow, cancelling, retrying) and the health check.
 */
import { randomUUID } from 'node:crypto';
import { PgflowWorker, type RunSnapshot } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useExampleServer } from './support/example-app.ts';
import { type ErrorBody, finished, startRun } from './support/run-requests.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

describe('operating runs', () => {
  it('GET /runs lists runs newest first, a page at a time; a bad cursor or status is a 400', async () => {
    const server = await startServer();
    const ids = [
      await startRun(server, 'check_links', ['https://example.com/']),
      await startRun(server, 'check_links', ['https://example.com/docs']),
      await startRun(server, 'check_links', ['https://example.com/blog']),
    ];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/runs?flow=check_links&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = await server.get<{ runs: Array<{ runId: string }>; nextCursor: string | null }>(query);
      expect(page.status).toBe(200);
      seen.push(...page.body.runs.map((run) => run.runId));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());

    expect((await server.get<ErrorBody>('/runs?cursor=nonsense')).status).toBe(400);
    const badStatus = await server.get<ErrorBody>('/runs?status=done');
    expect(badStatus).toMatchObject({ status: 400, body: { code: 'PGFLOW_INVALID_OPTIONS' } });
  });

  it('POST /flows/:slug/pause holds the flow: its runs queue up, and run after POST /flows/:slug/resume', async () => {
    const server = await startServer();
    expect(await server.post('/flows/check_links/pause', {})).toMatchObject({ status: 200, body: { paused: true } });
    const held = await startRun(server, 'check_links', ['https://example.com/']);
    // The worker serves the other flow meanwhile: once that run ended, it has polled since.
    await finished(server, await startRun(server, 'analyze_website', { url: 'https://example.com/nowhere' }));
    const waiting = await server.get<RunSnapshot>(`/runs/${held}`);
    expect(waiting.body.status).toBe('started');
    expect(waiting.body.steps[0]?.tasks.map((task) => task.status)).toEqual(['queued']);

    expect(await server.post('/flows/check_links/resume', {})).toMatchObject({ status: 200, body: { paused: false } });
    expect((await finished(server, held)).status).toBe('completed');
    expect((await server.post<ErrorBody>('/flows/no_such_flow/pause', {})).status).toBe(400);
  });

  it('POST /runs/:id/cancel cancels a run (its result is then a 409); a run that ended is left as it is', async () => {
    const server = await startServer();
    await server.post('/flows/check_links/pause', {});
    const runId = await startRun(server, 'check_links', ['https://example.com/']);
    const cancelled = await server.post(`/runs/${runId}/cancel`, { reason: 'not needed' });
    expect(cancelled).toEqual({ status: 200, body: { runId, status: 'cancelled', cancelled: true } });
    await server.post('/flows/check_links/resume', {});
    expect((await server.get<RunSnapshot>(`/runs/${runId}`)).body).toMatchObject({
      status: 'cancelled',
      cancelReason: 'not needed',
    });
    const result = await server.get<ErrorBody>(`/runs/${runId}/result`);
    expect(result).toMatchObject({ status: 409, body: { code: 'PGFLOW_RUN_CANCELLED' } });
    expect(await server.post(`/runs/${runId}/cancel`, {})).toMatchObject({ body: { cancelled: false } });
    expect((await server.post<ErrorBody>(`/runs/${randomUUID()}/cancel`, {})).status).toBe(404);
  });

  it('POST /runs/:id/retry runs a failed run again; a completed one is a 409', async () => {
    const server = await startServer();
    const failed = await startRun(server, 'analyze_website', { url: 'https://example.com/nowhere' });
    const first = await finished(server, failed);
    expect(first.status).toBe('failed');

    expect(await server.post(`/runs/${failed}/retry`, {})).toEqual({ status: 200, body: { runId: failed } });
    const again = await finished(server, failed);
    expect(again.status).toBe('failed');
    expect((again.failedAt as unknown as string) > (first.failedAt as unknown as string)).toBe(true);

    const completed = await startRun(server, 'check_links', ['https://example.com/']);
    expect((await finished(server, completed)).status).toBe('completed');
    const refused = await server.post<ErrorBody>(`/runs/${completed}/retry`, {});
    expect(refused).toMatchObject({ status: 409, body: { code: 'PGFLOW_RUN_NOT_RETRYABLE' } });
  });
});

describe('GET /health', () => {
  it('is 200 with the pgflow details while the worker runs, and 503 with the reason once it has stopped', async () => {
    const server = await startServer();
    // Healthy once a heartbeat is fresh: with the tests' 250 ms heartbeats, a loaded machine can make
    // one late (down, rightly) for a moment.
    const up = await waitFor(
      async () => {
        const answer = await server.get<{ status: string; info: Record<string, unknown> }>('/health');
        return answer.status === 200 ? answer : undefined;
      },
      { description: 'GET /health to answer 200' },
    );
    expect(up).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        info: {
          pgflow: {
            status: 'up',
            database: 'up',
            worker: { state: 'running', heartbeatAgeSeconds: expect.any(Number), heartbeatIntervalSeconds: 0.25 },
            queues: {
              analyze_website: null,
              approve_links: null,
              check_link_groups: null,
              check_links: null,
              fetch_title: null,
              recheck_links: null,
              tenant_report: null,
            },
            stalledTasks: 0,
          },
        },
      }),
    });

    await server.app.get(PgflowWorker).stop();
    const down = await server.get<{ status: string; error: Record<string, unknown> }>('/health');
    expect(down).toMatchObject({
      status: 503,
      body: {
        status: 'error',
        error: { pgflow: { status: 'down', message: 'The worker is stopped, not running.' } },
      },
    });
  });
});
