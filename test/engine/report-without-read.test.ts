/**
 * pgflow._report_and_claim with p_poll false (the worker reports a result between two polls): the
 * queue is read only for what the report itself made ready or may have (next steps, failures that
 * retry); otherwise no read, and no row comes back.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, pollOne, registerWorker, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

interface Row {
  run_id: string | null;
  step_slug: string | null;
  next_visible_at: Date | null;
}

async function report(
  flow: string,
  reports: { completions?: unknown[]; failures?: unknown[] },
  poll: boolean,
): Promise<Row[]> {
  const workerId = await registerWorker(db, flow, randomUUID());
  return db.query<Row>(
    `select run_id, step_slug, next_visible_at
       from pgflow._report_and_claim($1::jsonb, $2::jsonb, $3, 10, 30, $4::uuid, '{}', $5)`,
    [JSON.stringify(reports.completions ?? []), JSON.stringify(reports.failures ?? []), flow, workerId, poll],
  );
}

async function runWithRootClaimed(flow: string, root: string): Promise<string> {
  const run = await startRun(db, flow, {});
  await pollOne(db, flow, root, { runId: run.run_id });
  return run.run_id;
}

beforeAll(async () => {
  await defineFlow(db, 'rwr_one', [{ slug: 'only' }]);
  await defineFlow(db, 'rwr_chain', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  await defineFlow(db, 'rwr_retry', [{ slug: 'flaky', maxAttempts: 2, baseDelay: 0 }]);
  await defineFlow(db, 'rwr_delayed', [{ slug: 'first' }, { slug: 'later', deps: ['first'], startDelay: 30 }]);
});

describe('_report_and_claim without a poll', () => {
  it('reads nothing when the report makes nothing ready: a waiting task stays queued', async () => {
    const done = await runWithRootClaimed('rwr_one', 'only');
    const waiting = await startRun(db, 'rwr_one', {});
    const completion = { run_id: done, step_slug: 'only', task_index: 0, output: 1 };
    expect(await report('rwr_one', { completions: [completion] }, false)).toEqual([]);
    const [task] = await db.query<{ status: string }>('select status from pgflow.step_tasks where run_id = $1', [
      waiting.run_id,
    ]);
    expect(task?.status).toBe('queued');
    const [run] = await db.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [done]);
    expect(run?.status).toBe('completed');
    // Asked to poll, the same call reads the queue and takes the waiting task.
    expect((await report('rwr_one', {}, true)).map((row) => row.run_id)).toEqual([waiting.run_id]);
  });

  it('claims the next step its report made ready', async () => {
    const runId = await runWithRootClaimed('rwr_chain', 'first');
    const completion = { run_id: runId, step_slug: 'first', task_index: 0, output: 1 };
    const rows = await report('rwr_chain', { completions: [completion] }, false);
    expect(rows.map((row) => [row.run_id, row.step_slug])).toEqual([[runId, 'second']]);
  });

  it('says when the delayed step its report started becomes visible', async () => {
    // Else the worker would read the queue next at the end of its longest wait (maxPollSeconds).
    const runId = await runWithRootClaimed('rwr_delayed', 'first');
    const completion = { run_id: runId, step_slug: 'first', task_index: 0, output: 1 };
    const [message] = await db.query<{ vt: Date }>(
      `select q.vt from pgmq.q_rwr_delayed q join pgflow.step_tasks t on t.message_id = q.msg_id
        where t.run_id = $1 and t.step_slug = 'later'`,
      [runId],
    );
    expect(message).toBeUndefined();
    const rows = await report('rwr_delayed', { completions: [completion] }, false);
    const [later] = await db.query<{ vt: Date }>(
      `select q.vt from pgmq.q_rwr_delayed q join pgflow.step_tasks t on t.message_id = q.msg_id
        where t.run_id = $1 and t.step_slug = 'later'`,
      [runId],
    );
    expect(rows).toEqual([{ run_id: null, step_slug: null, next_visible_at: later?.vt }]);
  });

  it('reads the queue after a failure: its retry is claimed at once', async () => {
    const runId = await runWithRootClaimed('rwr_retry', 'flaky');
    const failure = { run_id: runId, step_slug: 'flaky', task_index: 0, error_message: 'boom' };
    const rows = await report('rwr_retry', { failures: [failure] }, false);
    expect(rows.map((row) => [row.run_id, row.step_slug])).toEqual([[runId, 'flaky']]);
  });
});
