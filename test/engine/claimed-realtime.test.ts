/**
 * The claimed start and report with Supabase Realtime: where a schema `realtime` exists, the events of
 * a run started and reported through the claimed paths go to realtime.send as those of the general
 * paths do, in the same order. This file's database gets a stub realtime.send that records its calls.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { type ClaimedRow, reportBothWays, startBothWays } from './support/claimed-start.ts';
import { defineFlow, registerWorker } from './support/engine-driver.ts';

const db = useTestDatabase();

beforeAll(async () => {
  await db.query('create schema realtime');
  await db.query(`create table realtime.sent (
    id bigint generated always as identity primary key,
    payload jsonb, event text, topic text, private boolean)`);
  await db.query(`create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
    returns void language sql as $$
      insert into realtime.sent (payload, event, topic, private) values (payload, event, topic, private)
    $$`);
});

/** What realtime.send got for a run, in order, without its id and the times that follow the clock. */
async function sentFor(runId: string): Promise<unknown[]> {
  const rows = await db.query<{ payload: Record<string, unknown>; event: string; private: boolean }>(
    `select payload, event, private from realtime.sent where topic = $1 order by id`,
    [`pgflow:run:${runId}`],
  );
  return rows.map(({ payload: { run_id: _run, at: _at, ...payload }, ...rest }) => ({ ...rest, payload }));
}

it('sends the events of a chain started and reported through the claimed paths as the general paths do', async () => {
  const flow = 'crt_chain';
  await defineFlow(db, flow, [{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['b'] }]);
  const worker = await registerWorker(db, flow);
  const [general, claimed] = [randomUUID(), randomUUID()] as const;
  const started = await startBothWays(await db.connect(), flow, { n: 1 }, worker, [general, claimed]);
  const outputOf = (task: ClaimedRow) => ({ step: task.step_slug });
  const reported = await reportBothWays(await db.connect(), flow, worker, started, outputOf);
  expect(reported.completeTasksCalls).toBe(3);

  const generalSent = await sentFor(general);
  expect(generalSent.map((sent) => (sent as { event: string }).event)).toEqual([
    'run:started',
    'step:a:started',
    'step:a:completed',
    'step:b:started',
    'step:b:completed',
    'step:c:started',
    'step:c:completed',
    'run:completed',
  ]);
  expect(await sentFor(claimed)).toEqual(generalSent);
});
