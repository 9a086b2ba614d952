/**
 * The wake-up of the worker's round trip (pgflow._report_and_claim): the steps its report starts in
 * the flow it claims for are claimed by the same statement, so it notifies "pgflow:work" for them
 * only when its claim may have left some (it got all it asked for). Every other wake-up is sent as
 * before: for other flows, for reports without a claim, and for starts later in the transaction.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, onClient, pollOne, registerWorker, type Sql, startRun } from './support/engine-driver.ts';
import { listen } from './support/engine-events.ts';

const db = useTestDatabase();

interface Claimed {
  run_id: string | null;
  step_slug: string | null;
}

/** Starts a run of `flow` and claims its root step `root`; returns the run id. */
async function runWithRootClaimed(flow: string, root: string): Promise<string> {
  const run = await startRun(db, flow, {});
  await pollOne(db, flow, root, { runId: run.run_id });
  return run.run_id;
}

/** Reports `step` of `runId` complete and claims up to `qty` tasks of `claimFlow` (none: null). */
async function reportAndClaim(
  on: Sql,
  runId: string,
  step: string,
  claimFlow: string | null,
  qty: number,
): Promise<string[]> {
  const workerId = await registerWorker(db, claimFlow ?? 'nothing', randomUUID());
  const rows = await on.query<Claimed>(
    `select run_id, step_slug from pgflow._report_and_claim($1::jsonb, '[]'::jsonb, $2, $3, 30, $4::uuid)`,
    [JSON.stringify([{ run_id: runId, step_slug: step, task_index: 0, output: 1 }]), claimFlow, qty, workerId],
  );
  return rows.filter((row) => row.run_id !== null).map((row) => row.step_slug as string);
}

describe('pgflow._report_and_claim wake-ups', () => {
  it('sends none for the steps its report started when its claim took them all', async () => {
    await defineFlow(db, 'handoff', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
    const runId = await runWithRootClaimed('handoff', 'first');
    const listener = await listen(db, ['pgflow:work']);
    expect(await reportAndClaim(db, runId, 'first', 'handoff', 10)).toEqual(['second']);
    await listener.settle();
    expect(listener.notifications).toEqual([]);
    await listener.close();
  });

  it('sends one when its claim got all it asked for and may have left some', async () => {
    await defineFlow(db, 'handoff_fan', [
      { slug: 'root' },
      { slug: 'x', deps: ['root'] },
      { slug: 'y', deps: ['root'] },
      { slug: 'z', deps: ['root'] },
    ]);
    const runId = await runWithRootClaimed('handoff_fan', 'root');
    const listener = await listen(db, ['pgflow:work']);
    expect(await reportAndClaim(db, runId, 'root', 'handoff_fan', 2)).toHaveLength(2);
    await listener.settle();
    expect(listener.notifications).toEqual([{ channel: 'pgflow:work', payload: 'handoff_fan' }]);
    await listener.close();
  });

  it('sends one when it claims for another flow, or claims nothing', async () => {
    await defineFlow(db, 'handoff_other', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
    await defineFlow(db, 'handoff_elsewhere', [{ slug: 'only' }]);
    const elsewhere = await runWithRootClaimed('handoff_other', 'first');
    const unclaimed = await runWithRootClaimed('handoff_other', 'first');
    const listener = await listen(db, ['pgflow:work']);
    expect(await reportAndClaim(db, elsewhere, 'first', 'handoff_elsewhere', 10)).toEqual([]);
    expect(await reportAndClaim(db, unclaimed, 'first', null, 0)).toEqual([]);
    await listener.settle();
    expect(listener.notifications).toEqual([
      { channel: 'pgflow:work', payload: 'handoff_other' },
      { channel: 'pgflow:work', payload: 'handoff_other' },
    ]);
    await listener.close();
  });

  it('leaves later starts of its transaction their wake-up', async () => {
    await defineFlow(db, 'handoff_then_start', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
    const runId = await runWithRootClaimed('handoff_then_start', 'first');
    const listener = await listen(db, ['pgflow:work']);
    const client = await db.connect('report then start');
    try {
      await client.query('begin');
      expect(await reportAndClaim(onClient(client), runId, 'first', 'handoff_then_start', 10)).toEqual(['second']);
      await startRun(onClient(client), 'handoff_then_start', {});
      await client.query('commit');
    } finally {
      await client.end();
    }
    await listener.settle();
    expect(listener.notifications).toEqual([{ channel: 'pgflow:work', payload: 'handoff_then_start' }]);
    await listener.close();
  });
});
