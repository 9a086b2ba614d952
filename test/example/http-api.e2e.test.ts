/**
 * The example application's HTTP API, end to end: the real AppModule (its flows, services, worker
 * and exception filter) on a test database, driven over HTTP with fetch.
 */
import { randomUUID } from 'node:crypto';
import { PgflowWorker, type RunSnapshot } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { type ExampleServer, finishedRun, useExampleServer } from './support/example-app.ts';

interface ErrorBody {
  readonly statusCode: number;
  readonly message: string;
  readonly code?: string;
}

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

/** Polls GET /runs/:id until the run has left `started`. */
function finished(server: ExampleServer, runId: string): Promise<RunSnapshot> {
  return finishedRun(server, runId, 15_000);
}

async function startRun(server: ExampleServer, flow: string, input: unknown): Promise<string> {
  const { status, body } = await server.post<{ runId: string }>('/runs', { flow, input });
  expect({ status, body }).toEqual({ status: 201, body: { runId: expect.any(String) } });
  return body.runId;
}

async function runCount(): Promise<number> {
  const [row] = await db.query<{ count: string }>('select count(*) from pgflow.runs');
  return Number(row?.count);
}

describe('GET /flows', () => {
  it('lists the flows with their steps, dependencies and step types', async () => {
    const server = await startServer();
    const { status, body } = await server.get<{ flows: Array<{ slug: string; steps: unknown[] }> }>('/flows');

    expect(status).toBe(200);
    expect(body.flows.map((flow) => flow.slug)).toEqual([
      'analyze_website',
      'check_links',
      'recheck_links',
      'approve_links',
      'check_link_groups',
      'fetch_title',
      'tenant_report',
    ]);
    expect(body.flows.map((flow) => (flow as { alias?: unknown }).alias)).toEqual([
      null,
      'links',
      null,
      null,
      null,
      null,
      null,
    ]);
    const [analyze] = body.flows;
    expect(analyze?.steps).toEqual([
      { slug: 'website', dependsOn: [], stepType: 'single', options: expect.objectContaining({ maxAttempts: 1 }) },
      {
        slug: 'summary',
        dependsOn: ['website'],
        stepType: 'single',
        options: expect.objectContaining({ maxAttempts: 3, baseDelay: 1 }),
      },
      { slug: 'keywords', dependsOn: ['website'], stepType: 'single', options: expect.any(Object) },
      { slug: 'links', dependsOn: ['website'], stepType: 'single', options: expect.any(Object) },
      { slug: 'link', dependsOn: ['links'], stepType: 'map', options: expect.objectContaining({ timeout: 10 }) },
      {
        slug: 'save',
        dependsOn: ['website', 'summary', 'keywords', 'link'],
        stepType: 'single',
        options: expect.any(Object),
      },
    ]);
  });
});

describe('POST /runs and GET /runs/:id', () => {
  it('runs analyze_website to completion, with the summary retried once', async () => {
    const server = await startServer();
    const runId = await startRun(server, 'analyze_website', { url: 'https://example.com/docs' });

    const run = await finished(server, runId);

    expect(run).toMatchObject({
      runId,
      flowSlug: 'analyze_website',
      status: 'completed',
      input: { url: 'https://example.com/docs' },
    });
    const steps = new Map(run.steps.map((step) => [step.stepSlug, step]));
    expect([...steps.keys()]).toEqual(['website', 'summary', 'keywords', 'links', 'link', 'save']);
    for (const step of run.steps) expect(step.status).toBe('completed');

    expect(steps.get('website')?.output).toMatchObject({
      url: 'https://example.com/docs',
      title: 'Documentation: durable workflows in PostgreSQL',
    });
    expect(steps.get('summary')?.output).toMatchObject({
      text: expect.stringMatching(/^A workflow is a graph of steps\./),
    });
    expect(steps.get('summary')?.tasks).toEqual([
      expect.objectContaining({
        status: 'completed',
        attemptsCount: 2,
        errorMessage: expect.stringContaining('summarizer busy'),
      }),
    ]);
    expect(steps.get('keywords')?.output).toEqual(expect.arrayContaining(['step', 'workflow']));
    const links = [
      'https://example.com/',
      'https://example.com/blog',
      'https://example.com/docs/getting-started',
      'https://example.com/docs/retries',
      'https://www.postgresql.org/docs/',
      'https://docs.nestjs.com/',
    ];
    expect(steps.get('links')?.output).toEqual(links);
    // The map step: one task per link, outputs in the order of the array.
    expect(steps.get('link')?.tasks).toHaveLength(links.length);
    expect(steps.get('link')?.output).toEqual([
      { url: links[0], status: 'ok' },
      { url: links[1], status: 'ok' },
      { url: links[2], status: 'ok' },
      { url: links[3], status: 'broken' },
      { url: links[4], status: 'external' },
      { url: links[5], status: 'external' },
    ]);
    for (const slug of ['website', 'keywords', 'links', 'link', 'save']) {
      for (const task of steps.get(slug)?.tasks ?? []) expect(task.attemptsCount).toBe(1);
    }
    // The run's output: its leaf step, save.
    expect(run.output).toEqual({
      save: {
        url: 'https://example.com/docs',
        title: 'Documentation: durable workflows in PostgreSQL',
        keywords: steps.get('keywords')?.output,
        links: { ok: 3, broken: ['https://example.com/docs/retries'], external: 2 },
        savedAt: expect.any(String),
      },
    });
  });

  it('runs check_links, whose root map step maps over the input array', async () => {
    const server = await startServer();
    const runId = await startRun(server, 'check_links', [
      'https://example.com/blog',
      'https://example.com/gone',
      'mailto:x@example.com',
    ]);

    const run = await finished(server, runId);

    expect(run.status).toBe('completed');
    expect(run.output).toEqual({
      tally: { checked: 3, ok: 1, broken: ['https://example.com/gone'], external: 0, invalid: 1 },
    });
  });

  it('starts check_links by its alias, links; GET /runs/:id says which flow ran', async () => {
    const server = await startServer();
    const runId = await startRun(server, 'links', ['https://example.com/blog']);

    const run = await finished(server, runId);

    expect(run).toMatchObject({ status: 'completed', flowSlug: 'check_links', alias: 'links' });
    expect(run.output).toEqual({ tally: { checked: 1, ok: 1, broken: [], external: 0, invalid: 0 } });
  });

  it('runs recheck_links, whose recheck step sleeps until the time its plan step fixed (delayUntil)', async () => {
    const server = await startServer();
    const at = new Date(Date.now() + 2_000);
    const runId = await startRun(server, 'recheck_links', { urls: ['https://example.com/gone'], at: at.toISOString() });

    const run = await finished(server, runId);

    expect(run.status).toBe('completed');
    const output = run.output as { recheck: { checkedAt: string; checks: unknown[] } };
    expect(output.recheck.checks).toEqual([{ url: 'https://example.com/gone', status: 'broken' }]);
    expect(Date.parse(output.recheck.checkedAt)).toBeGreaterThanOrEqual(at.getTime());
    const recheck = run.steps.find((step) => step.stepSlug === 'recheck');
    expect(recheck?.tasks).toEqual([expect.objectContaining({ status: 'completed', attemptsCount: 1 })]);
  });

  it('starts a run for a URL the site does not have, and the run fails at website saying why', async () => {
    const server = await startServer();
    const runId = await startRun(server, 'analyze_website', { url: 'https://example.com/nowhere' });

    const run = await finished(server, runId);

    expect(run.status).toBe('failed');
    const website = run.steps.find((step) => step.stepSlug === 'website');
    expect(website).toMatchObject({
      status: 'failed',
      errorMessage: expect.stringContaining('No page at https://example.com/nowhere'),
    });
    expect(website?.errorMessage).toContain('Try one of: https://example.com/, https://example.com/docs');
    // maxAttempts 1: a missing page is not retried.
    expect(website?.tasks).toEqual([expect.objectContaining({ status: 'failed', attemptsCount: 1 })]);
    expect(run.steps.filter((step) => step.stepSlug !== 'website').map((step) => step.status)).not.toContain(
      'completed',
    );
  });
});

describe('bad requests', () => {
  let server: ExampleServer;
  beforeEach(async () => {
    server = await startServer();
  });

  /** Sends a request that must be refused with `status`, and checks that it started no run. */
  async function refused(status: number, send: () => Promise<{ status: number; body: unknown }>): Promise<ErrorBody> {
    const before = await runCount();
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(await runCount()).toBe(before);
    return answer.body as ErrorBody;
  }

  it('400 for a body without flow', async () => {
    const body = await refused(400, () => server.post('/runs', { input: { url: 'https://example.com/' } }));
    expect(body.message).toContain('The request body has no flow');
    expect(body.message).toContain('"flow": "analyze_website"');
  });

  it('400 for a flow that is not a string', async () => {
    const body = await refused(400, () => server.post('/runs', { flow: 42, input: {} }));
    expect(body.message).toContain('flow must be the slug or the alias of a flow (GET /flows lists them), got 42');
  });

  it('400 for an unknown flow, naming the known ones (FlowNotFoundError)', async () => {
    const body = await refused(400, () => server.post('/runs', { flow: 'analyse_website', input: {} }));
    expect(body).toMatchObject({
      code: 'PGFLOW_FLOW_NOT_FOUND',
      message: expect.stringContaining(
        "Unknown flow 'analyse_website'. Known flows: analyze_website, check_links, recheck_links",
      ),
    });
  });

  it('400 for a body without input, and for an unknown field', async () => {
    const missing = await refused(400, () => server.post('/runs', { flow: 'analyze_website' }));
    expect(missing.message).toContain('The request body has no input');
    const misspelt = await refused(400, () => server.post('/runs', { flow: 'analyze_website', inputs: {} }));
    expect(misspelt.message).toContain("Unknown field 'inputs' in the request body");
  });

  it('400 for a body that is not JSON, or not a JSON object', async () => {
    const broken = await refused(400, () => server.request('POST', '/runs', '{"flow": "analyze_website", '));
    expect(broken.message).toMatch(/JSON/);
    const array = await refused(400, () => server.request('POST', '/runs', '[{"flow": "analyze_website"}]'));
    expect(array.message).toContain('The request body must be a JSON object like');
    const text = await refused(400, () =>
      server.request('POST', '/runs', '{"flow":"analyze_website","input":{}}', 'text/plain'),
    );
    expect(text.message).toContain('sent with Content-Type: application/json');
  });

  it('400 for an analyze_website input of the wrong shape', async () => {
    const notObject = await refused(400, () =>
      server.post('/runs', { flow: 'analyze_website', input: 'https://example.com/' }),
    );
    expect(notObject.message).toContain("Invalid input for flow 'analyze_website': the input must be an object");
    const noUrl = await refused(400, () => server.post('/runs', { flow: 'analyze_website', input: {} }));
    expect(noUrl.message).toContain('input.url is missing');
    const notString = await refused(400, () => server.post('/runs', { flow: 'analyze_website', input: { url: 42 } }));
    expect(notString.message).toContain('input.url must be a string, got 42');
    const relative = await refused(400, () =>
      server.post('/runs', { flow: 'analyze_website', input: { url: '/docs' } }),
    );
    expect(relative.message).toContain('input.url must be an absolute http(s) URL, got "/docs"');
  });

  it('400 for a check_links input that is not an array (InvalidRunInputError)', async () => {
    const body = await refused(400, () =>
      server.post('/runs', { flow: 'check_links', input: { url: 'https://example.com/' } }),
    );
    expect(body).toMatchObject({
      statusCode: 400,
      code: 'PGFLOW_INVALID_INPUT',
      message: expect.stringContaining("the flow's root map step 'link' runs one task per element of the input"),
    });
  });

  it('400 for a malformed run id', async () => {
    const { status, body } = await server.get<ErrorBody>('/runs/not-a-run-id');
    expect(status).toBe(400);
    expect(body.message).toBe('"not-a-run-id" is not a run id: run ids are UUIDs, as returned by POST /runs.');
  });

  it('404 for an unknown run', async () => {
    const runId = randomUUID();
    const { status, body } = await server.get<ErrorBody>(`/runs/${runId}`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'PGFLOW_RUN_NOT_FOUND', message: expect.stringContaining(runId) });
  });
});

describe('GET /runs/:id/result', () => {
  it('answers 200 with the completed run once it ends, 409 for a failed one', async () => {
    const server = await startServer();
    const done = await startRun(server, 'check_links', ['https://example.com/blog']);
    const failed = await startRun(server, 'analyze_website', { url: 'https://example.com/nowhere' });

    const completed = await server.get<{ status: string; output: unknown }>(`/runs/${done}/result`);
    expect(completed).toMatchObject({ status: 200, body: { status: 'completed', output: { tally: { ok: 1 } } } });
    const refused = await server.get<ErrorBody>(`/runs/${failed}/result`);
    expect(refused).toMatchObject({ status: 409, body: { code: 'PGFLOW_RUN_FAILED' } });
    expect(refused.body.message).toContain('No page at https://example.com/nowhere');
  });

  it('answers 504 for a run still running after timeoutMs, 400 for a bad timeoutMs', async () => {
    const server = await startServer();
    await db.query("select pgflow.create_flow('nobody_serves'), pgflow.add_step('nobody_serves', 'only')");
    const [{ run_id: runId } = { run_id: '' }] = await db.query<{ run_id: string }>(
      "select run_id from pgflow.start_flow('nobody_serves', '{}')",
    );

    const pending = await server.get<ErrorBody>(`/runs/${runId}/result?timeoutMs=50`);
    expect(pending).toMatchObject({ status: 504, body: { code: 'PGFLOW_WAIT_TIMEOUT' } });
    expect((await server.get<ErrorBody>(`/runs/${runId}/result?timeoutMs=soon`)).status).toBe(400);
  });
});

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
