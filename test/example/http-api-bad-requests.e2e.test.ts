/**
 * The example application's HTTP API, end to end (see http-api-runs.e2e.test.ts): the requests it
 * refuses, with the status and the message, and without starting a run.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { type ExampleServer, useExampleServer } from './support/example-app.ts';
import type { ErrorBody } from './support/run-requests.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

async function runCount(): Promise<number> {
  const [row] = await db.query<{ count: string }>('select count(*) from pgflow.runs');
  return Number(row?.count);
}

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
