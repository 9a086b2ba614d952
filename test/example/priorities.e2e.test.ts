/**
 * The example application's POST /runs takes an optional priority: the run gets it (GET /runs/:id
 * shows it, 0 without one, and a subflow's child runs get their parent's); a priority that is not an
 * integer from -1000000 to 1000000 is a 400 that names it, and starts nothing.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { finishedRun, runSnapshot, useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

async function runCount(): Promise<number> {
  const [row] = await db.query<{ count: string }>('select count(*) from pgflow.runs');
  return Number(row?.count);
}

it('starts a run with the priority of the body; its child runs get it too', async () => {
  const server = await startServer();
  const started = await server.post<{ runId: string }>('/runs', {
    flow: 'check_link_groups',
    input: { groups: [['https://example.com/blog']] },
    priority: 7,
  });
  expect(started.status).toBe(201);
  const run = await finishedRun(server, started.body.runId);
  expect({ status: run.status, priority: run.priority }).toEqual({ status: 'completed', priority: 7 });
  const child = await runSnapshot(server, run.children[0]?.runId as string);
  expect(child.priority).toBe(7);

  const plain = await server.post<{ runId: string }>('/runs', { flow: 'check_links', input: [] });
  expect((await runSnapshot(server, plain.body.runId)).priority).toBe(0);
});

it.each([
  ['a fraction', 2.5],
  ['a string', 'high'],
  ['a priority out of range', 5_000_000],
  ['null', null],
])('400 for %s as priority, naming it, with no run started', async (_label, priority) => {
  const server = await startServer();
  const before = await runCount();
  const answer = await server.post<{ message: string }>('/runs', { flow: 'check_links', input: [], priority });
  expect(answer.status).toBe(400);
  expect(answer.body.message).toContain('priority must be an integer from -1000000 to 1000000');
  expect(answer.body.message).toContain(`got ${JSON.stringify(priority)}`);
  expect(await runCount()).toBe(before);
});
