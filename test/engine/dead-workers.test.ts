/**
 * Dead workers: requeue_stalled_tasks declares a worker dead when its heartbeat is later than its
 * dead_after, and puts the tasks it had started back in the queue at once, whatever their timeout;
 * a worker declared dead that beats again is alive, keeps what it started since, and hears of it.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, pollOne, queueMessages, runRow, startRun, stepTask } from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(maxAttempts = 3): Promise<string> {
  const slug = `dead_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }], { timeout: 600, maxAttempts });
  return slug;
}

async function worker(flowSlug: string, deadAfter: string | null, silentFor = '0 seconds'): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into pgflow.workers (worker_id, queue_name, function_name, dead_after, last_heartbeat_at)
     values ($1, $2, 'test', $3::interval, now() - $4::interval)`,
    [id, flowSlug, deadAfter, silentFor],
  );
  return id;
}

async function sweep(): Promise<number> {
  const [row] = await db.query<{ n: number }>('select pgflow.requeue_stalled_tasks() as n');
  return row?.n as number;
}

/** Makes a worker's heartbeat `seconds` old, as if it had stopped beating then. */
async function silence(workerId: string, seconds: number): Promise<void> {
  await db.query(
    'update pgflow.workers set last_heartbeat_at = now() - make_interval(secs => $2) where worker_id = $1',
    [workerId, seconds],
  );
}

afterEach(async () => {
  await db.query(
    `select pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"cleanup"') from pgflow.step_tasks t
      where t.status = 'started'`,
  );
});

describe('a worker whose heartbeat is later than its dead_after', () => {
  it('is declared dead and its started tasks are queued again at once, visible, far before their timeout', async () => {
    const slug = await flow();
    const id = await worker(slug, '3 seconds');
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'only', { workerId: id });
    await silence(id, 10);

    expect(await sweep()).toBe(1);
    expect(await stepTask(db, run.run_id, 'only')).toMatchObject({ status: 'queued', requeued_count: 1 });
    const [message] = await queueMessages(db, slug, run.run_id);
    expect(new Date(message?.vt as Date).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    const [row] = await db.query(
      'select stop_reason, stopped_at is not null as stopped from pgflow.workers where worker_id = $1',
      [id],
    );
    expect(row).toEqual({ stop_reason: 'declared_dead', stopped: true });
  });

  it('is left alone while it beats in time, and so is a worker without dead_after (pgflow’s own)', async () => {
    const slug = await flow();
    const alive = await worker(slug, '3 seconds');
    const pgflowWorker = await worker(slug, null, '1 hour');
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'only', { workerId: pgflowWorker });
    await startRun(db, slug, {});
    await pollOne(db, slug, 'only', { workerId: alive });

    expect(await sweep()).toBe(0);
    expect((await stepTask(db, run.run_id, 'only')).status).toBe('started');
    expect(
      await db.query(
        'select stop_reason from pgflow.workers where worker_id = any($1::uuid[]) and stopped_at is not null',
        [[alive, pgflowWorker]],
      ),
    ).toEqual([]);
  });

  it('comes back alive when it beats again, hears it was declared dead, and keeps the tasks it started since', async () => {
    const slug = await flow();
    const id = await worker(slug, '3 seconds');
    const before = await startRun(db, slug, {});
    await pollOne(db, slug, 'only', { workerId: id });
    await silence(id, 10);
    await sweep();

    const beats = await db.query('select * from pgflow._heartbeat($1::uuid[])', [[id]]);
    expect(beats).toEqual([{ worker_id: id, was_declared_dead: true }]);
    expect(await db.query('select * from pgflow._heartbeat($1::uuid[])', [[id]])).toEqual([
      { worker_id: id, was_declared_dead: false },
    ]);
    const [row] = await db.query('select stop_reason, stopped_at from pgflow.workers where worker_id = $1', [id]);
    expect(row).toEqual({ stop_reason: null, stopped_at: null });

    // The task it had before was requeued; it takes it (or another) again and keeps it.
    await pollOne(db, slug, 'only', { workerId: id });
    expect(await sweep()).toBe(0);
    expect((await stepTask(db, before.run_id, 'only')).status).toBe('started');
  });

  it('counts towards the requeue limit: a task whose worker dies every time ends its run', async () => {
    const slug = await flow(10);
    const run = await startRun(db, slug, {});
    for (let crash = 1; crash <= 4; crash++) {
      const id = await worker(slug, '1 second');
      await pollOne(db, slug, 'only', { workerId: id });
      await silence(id, 5);
      await sweep();
    }
    expect(await stepTask(db, run.run_id, 'only')).toMatchObject({ status: 'failed', requeued_count: 3 });
    expect((await stepTask(db, run.run_id, 'only')).error_message).toMatch(/stalled: not completed \(its worker gone/);
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });

  it('mark_worker_stopped says the worker stopped itself', async () => {
    const slug = await flow();
    const id = await worker(slug, '3 seconds');
    await db.query('select pgflow.mark_worker_stopped($1)', [id]);
    const [row] = await db.query(
      'select stop_reason, stopped_at is not null as stopped from pgflow.workers where worker_id = $1',
      [id],
    );
    expect(row).toEqual({ stop_reason: 'stopped', stopped: true });
  });
});
