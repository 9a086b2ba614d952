/**
 * pgflow._report_and_claim with p_awaited_run_ids (the runs a wait() in the worker's process waits
 * for): each of them that has ended once the report is made comes back as a row with its outcome,
 * read from the tables as sql.runOutcome reads it; runs still going, and runs nobody named, do not.
 */
import { randomUUID } from 'node:crypto';
import { sql } from '../../libs/pgflow/src/db/engine.sql.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, pollOne, registerWorker, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

interface Row {
  run_id: string | null;
  step_slug: string | null;
  run_outcome: Record<string, unknown> | null;
}

async function report(
  flow: string,
  reports: { completions?: unknown[]; failures?: unknown[] },
  awaited: string[],
  poll = true,
): Promise<Row[]> {
  const workerId = await registerWorker(db, flow, randomUUID());
  return db.query<Row>(
    `select run_id, step_slug, run_outcome
       from pgflow._report_and_claim($1::jsonb, $2::jsonb, $3, 10, 30, $4::uuid, '{}', $5, $6::uuid[])`,
    [JSON.stringify(reports.completions ?? []), JSON.stringify(reports.failures ?? []), flow, workerId, poll, awaited],
  );
}

async function runWithRootClaimed(flow: string, root: string, input: unknown = {}): Promise<string> {
  const run = await startRun(db, flow, input);
  await pollOne(db, flow, root, { runId: run.run_id });
  return run.run_id;
}

/** sql.runOutcome's row, as JSON (what the library reads when a notification says the run ended). */
async function outcomeRead(runId: string): Promise<Record<string, unknown>> {
  const [row] = await db.query<Record<string, unknown>>(
    `select to_jsonb(o) as outcome from (${sql.runOutcome.replace('$1::pg_catalog.uuid', `'${runId}'::uuid`)}) o`,
  );
  return row?.outcome as Record<string, unknown>;
}

const outcomes = (rows: Row[]) => rows.filter((row) => row.run_outcome !== null);

beforeAll(async () => {
  await defineFlow(db, 'ro_one', [{ slug: 'only' }]);
  await defineFlow(db, 'ro_chain', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  await defineFlow(db, 'ro_fails', [{ slug: 'boom', maxAttempts: 1 }]);
});

describe('_report_and_claim with awaited runs', () => {
  it('returns the outcome of an awaited run the report completed, as the run reads afterwards', async () => {
    const runId = await runWithRootClaimed('ro_one', 'only', { n: 7 });
    const completion = { run_id: runId, step_slug: 'only', task_index: 0, output: { doubled: 14 } };
    const rows = outcomes(await report('ro_one', { completions: [completion] }, [runId]));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.run_id).toBe(runId);
    expect(rows[0]?.step_slug).toBeNull();
    expect(rows[0]?.run_outcome).toEqual(await outcomeRead(runId));
    expect(rows[0]?.run_outcome).toMatchObject({
      status: 'completed',
      input: { n: 7 },
      output: { only: { doubled: 14 } },
    });
  });

  it('returns the failed run with the step that failed it and its error', async () => {
    const runId = await runWithRootClaimed('ro_fails', 'boom');
    const failure = { run_id: runId, step_slug: 'boom', task_index: 0, error_message: 'it broke' };
    const rows = outcomes(await report('ro_fails', { failures: [failure] }, [runId]));
    expect(rows.map((row) => row.run_outcome)).toEqual([await outcomeRead(runId)]);
    expect(rows[0]?.run_outcome).toMatchObject({ status: 'failed', failed_step: 'boom', error_message: 'it broke' });
  });

  it('returns nothing for an awaited run that goes on, and claims its next step as before', async () => {
    const runId = await runWithRootClaimed('ro_chain', 'first');
    const completion = { run_id: runId, step_slug: 'first', task_index: 0, output: 1 };
    const rows = await report('ro_chain', { completions: [completion] }, [runId]);
    expect(outcomes(rows)).toEqual([]);
    expect(rows.map((row) => [row.run_id, row.step_slug])).toEqual([[runId, 'second']]);
  });

  it('returns only the runs named: another run the same report completed is not', async () => {
    const named = await runWithRootClaimed('ro_one', 'only');
    const other = await runWithRootClaimed('ro_one', 'only');
    const completions = [named, other].map((run_id) => ({ run_id, step_slug: 'only', task_index: 0, output: 1 }));
    const rows = outcomes(await report('ro_one', { completions }, [named]));
    expect(rows.map((row) => row.run_id)).toEqual([named]);
  });

  it('returns the outcome when the report reads no queue (p_poll false)', async () => {
    const runId = await runWithRootClaimed('ro_one', 'only');
    const completion = { run_id: runId, step_slug: 'only', task_index: 0, output: 2 };
    const rows = await report('ro_one', { completions: [completion] }, [runId], false);
    expect(rows.map((row) => [row.run_id, row.run_outcome?.status])).toEqual([[runId, 'completed']]);
  });

  it('returns no outcome row when no run is named', async () => {
    const runId = await runWithRootClaimed('ro_one', 'only');
    const completion = { run_id: runId, step_slug: 'only', task_index: 0, output: 3 };
    expect(outcomes(await report('ro_one', { completions: [completion] }, []))).toEqual([]);
  });
});
