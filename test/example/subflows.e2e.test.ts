/**
 * The example application's subflow: check_link_groups checks each group of links in a child run of
 * check_links; GET /runs/:id lists the children, and each child names its parent.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { finishedRun, runSnapshot, useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

it('check_link_groups checks each group in a child run of check_links and sums them up', async () => {
  const server = await startServer();
  const started = await server.post<{ runId: string }>('/runs', {
    flow: 'check_link_groups',
    input: { groups: [['https://example.com/blog', 'https://example.com/gone'], ['mailto:x@example.com']] },
  });
  expect(started.status).toBe(201);
  const { runId } = started.body;
  const run = await finishedRun(server, runId);
  expect(run).toMatchObject({
    status: 'completed',
    output: { summarize: { groups: 2, checked: 3, broken: ['https://example.com/gone'] } },
  });
  expect(run.children.map((child) => [child.flowSlug, child.taskIndex, child.status])).toEqual([
    ['check_links', 0, 'completed'],
    ['check_links', 1, 'completed'],
  ]);
  const child = await runSnapshot(server, run.children[1]?.runId as string);
  expect(child.parent).toEqual({ runId, stepSlug: 'group', taskIndex: 1 });
  expect(child.input).toEqual(['mailto:x@example.com']);
});
