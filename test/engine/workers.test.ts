/**
 * Worker rows: a worker is a row of pgflow.workers; start_tasks records it on the tasks it starts;
 * mark_worker_stopped sets stopped_at.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, pollOne, registerWorker, startRun, stepTask } from './support/engine-driver.ts';

const db = useTestDatabase();

interface WorkerRow {
  worker_id: string;
  queue_name: string;
  function_name: string;
  started_at: Date;
  deprecated_at: Date | null;
  stopped_at: Date | null;
  last_heartbeat_at: Date;
}

async function workerRow(workerId: string): Promise<WorkerRow | undefined> {
  const [row] = await db.query<WorkerRow>('select * from pgflow.workers where worker_id = $1', [workerId]);
  return row;
}

beforeAll(async () => {
  await defineFlow(db, 'worked', [{ slug: 'only' }]);
});

it('a registered worker is a plain row with its queue and function name', async () => {
  const id = await registerWorker(db, 'worked');
  expect(await workerRow(id)).toMatchObject({
    worker_id: id,
    queue_name: 'worked',
    function_name: 'engine-test',
    stopped_at: null,
    deprecated_at: null,
  });
});

it('mark_worker_stopped sets stopped_at', async () => {
  const id = await registerWorker(db, 'worked');
  await db.query('select pgflow.mark_worker_stopped(worker_id => $1::uuid)', [id]);
  const row = await workerRow(id);
  expect(row?.stopped_at).toBeInstanceOf(Date);
});

it('mark_worker_stopped leaves other workers running', async () => {
  const stopped = await registerWorker(db, 'worked');
  const running = await registerWorker(db, 'worked');
  await db.query('select pgflow.mark_worker_stopped(worker_id => $1::uuid)', [stopped]);
  expect((await workerRow(running))?.stopped_at).toBeNull();
});

it('a heartbeat is a plain update of last_heartbeat_at', async () => {
  const id = await registerWorker(db, 'worked');
  await db.query(
    `update pgflow.workers set last_heartbeat_at = last_heartbeat_at + interval '5 seconds' where worker_id = $1`,
    [id],
  );
  const row = await workerRow(id);
  expect(row?.last_heartbeat_at.getTime()).toBeGreaterThan(row?.started_at.getTime() as number);
});

it('start_tasks records the worker on the task it starts', async () => {
  const id = await registerWorker(db, 'worked', randomUUID());
  const run = await startRun(db, 'worked', {});
  await pollOne(db, 'worked', 'only', { runId: run.run_id, workerId: id });
  expect((await stepTask(db, run.run_id, 'only')).last_worker_id).toBe(id);
});

it('deleting a worker row keeps its tasks and clears their worker', async () => {
  const id = await registerWorker(db, 'worked');
  const run = await startRun(db, 'worked', {});
  await pollOne(db, 'worked', 'only', { runId: run.run_id, workerId: id });
  await db.query('delete from pgflow.workers where worker_id = $1', [id]);
  expect(await stepTask(db, run.run_id, 'only')).toMatchObject({ status: 'started', last_worker_id: null });
});
