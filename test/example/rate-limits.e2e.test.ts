/**
 * The example application's rate-limited flow, end to end: fetch_title allows 2 page fetches per
 * second per host. Six runs for one host start at most 2 per second of the database's clock (counted
 * from step_tasks.started_at), and all complete: none is dropped.
 */
import type { RunSnapshot } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { finishedRun, useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

it('fetch_title starts at most 2 tasks per second for one host, and completes every run', async () => {
  const server = await startServer();
  const runIds: string[] = [];
  for (const path of ['/', '/docs', '/blog', '/', '/docs', '/blog']) {
    const { status, body } = await server.post<{ runId: string }>('/runs', {
      flow: 'fetch_title',
      input: { url: `https://example.com${path}` },
    });
    expect(status).toBe(201);
    runIds.push(body.runId);
  }
  const runs: RunSnapshot[] = [];
  for (const runId of runIds) runs.push(await finishedRun(server, runId, 60_000));
  expect(runs.map((run) => run.status)).toEqual(Array(6).fill('completed'));

  const perSecond = await db.query<{ key: string; n: number }>(
    `select r.rate_limit_key as key, count(*)::int as n
       from pgflow.step_tasks t join pgflow.runs r using (run_id)
      where t.flow_slug = 'fetch_title'
      group by r.rate_limit_key, floor(extract(epoch from t.started_at))`,
  );
  expect(new Set(perSecond.map((row) => row.key))).toEqual(new Set(['example.com']));
  expect(Math.max(...perSecond.map((row) => row.n))).toBeLessThanOrEqual(2);
  expect(perSecond.length).toBeGreaterThanOrEqual(3);
});
