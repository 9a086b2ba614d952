/**
 * The example application's dashboard at /pgflow, end to end: refused without the token (with the
 * Basic challenge a browser answers), refused to everyone when no token is configured, and served
 * with the token, listing the example's flows and a run.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);
const TOKEN = 'a-long-enough-token';

function basic(password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
}

it('refuses the dashboard without the token and serves it with the token', async () => {
  const server = await startServer({ dashboardToken: TOKEN });

  const anonymous = await fetch(`${server.baseUrl}/pgflow`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
  expect((await fetch(`${server.baseUrl}/pgflow/runs`, { headers: basic('wrong-token-here') })).status).toBe(401);

  const { body } = await server.post<{ runId: string }>('/runs', { flow: 'check_links', input: [] });
  const flows = await fetch(`${server.baseUrl}/pgflow`, { headers: basic(TOKEN) });
  expect(flows.status).toBe(200);
  const page = await flows.text();
  expect(page).toContain('data-flow="analyze_website"');
  expect(page).toContain('data-flow="check_links');
  const runs = await fetch(`${server.baseUrl}/pgflow/runs`, { headers: basic(TOKEN) });
  expect(await runs.text()).toContain(`data-run="${body.runId}"`);
});

it('refuses everyone when no token is configured', async () => {
  const server = await startServer();

  const response = await fetch(`${server.baseUrl}/pgflow`, { headers: basic('anything-at-all') });

  expect(response.status).toBe(403);
  expect(await response.text()).toContain('PGFLOW_DASHBOARD_TOKEN');
});
