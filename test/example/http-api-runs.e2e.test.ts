/**
 * The example application's HTTP API, end to end: the real AppModule (its flows, services, worker
 * and exception filter) on a test database, driven over HTTP with fetch. This file: listing the
 * flows, starting runs and reading them and their results.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { useExampleServer } from './support/example-app.ts';
import { type ErrorBody, finished, startRun } from './support/run-requests.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

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
