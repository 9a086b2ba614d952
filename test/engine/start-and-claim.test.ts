/**
 * pgflow._start_and_claim: a start and a claim for one worker in one statement (what FlowClient.start()
 * sends when its own process's worker serves the flow). The claim is an ordinary one: the worker's
 * row on the tasks, the run input on them, nothing for a paused flow; the other workers are woken
 * only when the claim may have left messages.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, registerWorker } from './support/engine-driver.ts';
import { listen } from './support/engine-events.ts';

const db = useTestDatabase();

interface Row {
  kind: 'run' | 'task';
  run_id: string;
  flow_slug: string;
  step_slug: string | null;
  task_index: number | null;
  input: unknown;
  flow_input: unknown;
  attempt: number | null;
}

async function startAndClaim(flowSlug: string, input: unknown, qty: number, workerId: string): Promise<Row[]> {
  return db.query<Row>(
    `select kind, run_id, flow_slug, step_slug, task_index, input, flow_input, attempt
       from pgflow._start_and_claim($1, $2::jsonb, null, null, null, 0, null, null, $3, 30, $4::uuid)`,
    [flowSlug, json(input), qty, workerId],
  );
}

beforeAll(async () => {
  await defineFlow(db, 'sac_chain', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  await defineFlow(db, 'sac_map', [{ slug: 'each', type: 'map' }]);
  await defineFlow(db, 'sac_paused', [{ slug: 'only' }]);
});

describe('_start_and_claim', () => {
  it('returns the run, then its first task claimed for the worker, with the run input', async () => {
    const worker = await registerWorker(db, 'sac_chain');
    const rows = await startAndClaim('sac_chain', { order: 7 }, 10, worker);
    expect(rows.map((row) => row.kind)).toEqual(['run', 'task']);
    const [run, task] = rows as [Row, Row];
    expect(run).toMatchObject({ flow_slug: 'sac_chain', step_slug: null });
    expect(task).toMatchObject({
      run_id: run.run_id,
      step_slug: 'first',
      task_index: 0,
      attempt: 1,
      flow_input: { order: 7 },
    });
    const [stored] = await db.query<{ status: string; last_worker_id: string }>(
      `select status, last_worker_id from pgflow.step_tasks where run_id = $1 and step_slug = 'first'`,
      [run.run_id],
    );
    expect(stored).toEqual({ status: 'started', last_worker_id: worker });
  });

  it('wakes no other worker when it took every new message, and wakes them when it may have left some', async () => {
    const worker = await registerWorker(db, 'sac_map');
    const listener = await listen(db, ['pgflow:work']);
    const all = await startAndClaim('sac_map', ['a', 'b'], 10, worker);
    expect(all.filter((row) => row.kind === 'task').map((row) => row.input)).toEqual(['a', 'b']);
    await listener.settle();
    expect(listener.notifications).toEqual([]);

    const some = await startAndClaim('sac_map', ['x', 'y', 'z'], 2, worker);
    expect(some.filter((row) => row.kind === 'task')).toHaveLength(2);
    const [note] = await listener.waitFor((n) => n.channel === 'pgflow:work', 1, 'the wake-up');
    expect(note?.payload).toBe('sac_map');
    await listener.close();
  });

  it('starts a run of a paused flow and claims nothing: its task waits in the queue', async () => {
    const worker = await registerWorker(db, 'sac_paused');
    await db.query(`select pgflow.pause_flow('sac_paused')`);
    const rows = await startAndClaim('sac_paused', {}, 10, worker);
    expect(rows.map((row) => row.kind)).toEqual(['run']);
    const [task] = await db.query<{ status: string }>('select status from pgflow.step_tasks where run_id = $1', [
      rows[0]?.run_id,
    ]);
    expect(task?.status).toBe('queued');
    await db.query(`select pgflow.resume_flow('sac_paused')`);
  });

  it('refuses a bad start like start_flow, claiming and writing nothing', async () => {
    const worker = await registerWorker(db, 'sac_chain');
    const id = randomUUID();
    await db.query('select 1 from pgflow.start_flow($1, $2::jsonb, $3::uuid)', ['sac_chain', '{}', id]);
    const before = await db.query<{ n: number }>(`select count(*)::int as n from pgflow.runs`);
    await expect(
      db.query(
        `select * from pgflow._start_and_claim('sac_chain', '{}', $1::uuid, null, null, 0, null, null, 10, 30, $2)`,
        [id, worker],
      ),
    ).rejects.toMatchObject({ code: 'PF008' });
    expect(await db.query(`select count(*)::int as n from pgflow.runs`)).toEqual(before);
  });
});
