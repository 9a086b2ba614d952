/**
 * Run priorities: start_flow(..., priority) / start_flows(..., priority) store it on the run (0 by
 * default, a child run gets its parent's); while a run of a flow with a priority other than 0 is
 * started, the flow's ready tasks are claimed highest priority first, then in message order, with
 * the visibility and read count a pgmq.read gives; otherwise in message order, as before. A priority
 * out of range is refused with nothing written.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  json,
  pollOne,
  queueMessages,
  type RunRow,
  registerWorker,
  runRow,
  startRun,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

type PriorityRun = RunRow & { priority: number; parent_run_id?: string | null };

let flows = 0;
/** A new one-step flow (`work`), so that every test has its own queue. */
async function oneStepFlow(): Promise<string> {
  const slug = `prio_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'work' }]);
  return slug;
}

async function startWithPriority(flowSlug: string, input: unknown, priority: number | null): Promise<PriorityRun> {
  const [row] = await db.query<PriorityRun>('select * from pgflow.start_flow($1, $2::jsonb, priority => $3)', [
    flowSlug,
    json(input),
    priority,
  ]);
  return row as PriorityRun;
}

/** Claims one task at a time through the worker's path until the queue has none, returning the inputs in order. */
async function claimOneByOne(flowSlug: string): Promise<unknown[]> {
  const worker = await registerWorker(db, flowSlug);
  const order: unknown[] = [];
  for (;;) {
    const tasks = await db.query<{ run_id: string; flow_input: unknown }>(
      'select run_id, flow_input from pgflow._claim_tasks($1, 1, 30, $2::uuid)',
      [flowSlug, worker],
    );
    if (tasks.length === 0) return order;
    const [task] = tasks;
    order.push(task?.flow_input);
    await completeTask(db, task?.run_id as string, 'work', 0, 'done');
  }
}

async function runCount(flowSlug: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.runs where flow_slug = $1', [
    flowSlug,
  ]);
  return row?.n ?? -1;
}

describe('run priorities', () => {
  it('without priorities, runs get 0 and their tasks are claimed in message order', async () => {
    const flow = await oneStepFlow();
    for (let i = 0; i < 5; i++) {
      const run = (await startRun(db, flow, { n: i })) as PriorityRun;
      expect(run.priority).toBe(0);
    }
    expect(await claimOneByOne(flow)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
  });

  it('claims the tasks of higher-priority runs first, then in message order', async () => {
    const flow = await oneStepFlow();
    await startWithPriority(flow, 'zero-1', 0);
    await startWithPriority(flow, 'minus-5', -5);
    await startWithPriority(flow, 'zero-2', 0);
    await startWithPriority(flow, 'ten-1', 10);
    await startWithPriority(flow, 'five', 5);
    await startWithPriority(flow, 'ten-2', 10);
    await startWithPriority(flow, 'zero-3', null);
    expect(await claimOneByOne(flow)).toEqual(['ten-1', 'ten-2', 'five', 'zero-1', 'zero-2', 'zero-3', 'minus-5']);
  });

  it('a message read by priority is hidden and counted like pgmq.read does, and is not claimed twice', async () => {
    const flow = await oneStepFlow();
    await startWithPriority(flow, 'low', 0);
    const high = await startWithPriority(flow, 'high', 3);
    const worker = await registerWorker(db, flow);
    const first = await db.query<{ run_id: string }>('select run_id from pgflow._claim_tasks($1, 1, 30, $2::uuid)', [
      flow,
      worker,
    ]);
    expect(first.map((task) => task.run_id)).toEqual([high.run_id]);
    const [message] = await queueMessages(db, flow, high.run_id);
    expect(message?.read_ct).toBe(1);
    expect(message?.visible_in).toBeGreaterThan(20);
    const second = await db.query<{ flow_input: unknown }>(
      'select flow_input from pgflow._claim_tasks($1, 5, 30, $2::uuid)',
      [flow, worker],
    );
    expect(second.map((task) => task.flow_input)).toEqual(['low']);
  });

  it('concurrent claims by priority never start a task twice and leave none behind', async () => {
    const flow = await oneStepFlow();
    await db.query('select count(*) from pgflow.start_flows($1, $2::jsonb)', [
      flow,
      json(Array.from({ length: 60 }, (_, i) => `low-${i}`)),
    ]);
    await db.query('select count(*) from pgflow.start_flows($1, $2::jsonb, priority => 2)', [
      flow,
      json(Array.from({ length: 20 }, (_, i) => `high-${i}`)),
    ]);
    const clients = await Promise.all([0, 1, 2, 3].map((i) => db.connect(`priority claims ${i}`)));
    // Per connection, the inputs of each claim (one batch: its tasks come back in no set order).
    const claimed: string[][][] = await Promise.all(
      clients.map(async (client) => {
        const worker = await registerWorker(db, flow);
        const batches: string[][] = [];
        for (;;) {
          const { rows } = await client.query<{ flow_input: string }>(
            'select flow_input from pgflow._claim_tasks($1, 3, 30, $2::uuid)',
            [flow, worker],
          );
          if (rows.length === 0) return batches;
          batches.push(rows.map((row) => row.flow_input));
        }
      }),
    );
    await Promise.all(clients.map((client) => client.end()));
    const all = claimed.flat(2);
    expect(all).toHaveLength(80);
    expect(new Set(all).size).toBe(80);
    // Each connection took the high runs' tasks before any low one (a batch may hold the last highs and the first lows).
    for (const batches of claimed) {
      const firstLow = batches.findIndex((batch) => batch.some((input) => input.startsWith('low-')));
      const lastHigh = batches.map((batch) => batch.some((input) => input.startsWith('high-'))).lastIndexOf(true);
      expect({ lastHigh, firstLow, batches }).toEqual({
        lastHigh,
        firstLow: firstLow === -1 || firstLow >= lastHigh ? firstLow : 'after the last high',
        batches,
      });
    }
  });

  it('start_flows gives every run of the batch the priority, and SQL callers can pass it by name', async () => {
    const flow = await oneStepFlow();
    const runs = await db.query<PriorityRun>('select * from pgflow.start_flows($1, $2::jsonb, priority => 7)', [
      flow,
      json(['a', 'b']),
    ]);
    expect(runs.map((run) => run.priority)).toEqual([7, 7]);
    const single = await startWithPriority(flow, 'c', -3);
    expect(((await runRow(db, single.run_id)) as PriorityRun).priority).toBe(-3);
  });

  it('an idempotent start that finds its run keeps that run and its priority', async () => {
    const flow = await oneStepFlow();
    const [first] = await db.query<PriorityRun>(
      "select * from pgflow.start_flow($1, '1'::jsonb, idempotency_key => 'k', priority => 4)",
      [flow],
    );
    const [again] = await db.query<PriorityRun>(
      "select * from pgflow.start_flow($1, '1'::jsonb, idempotency_key => 'k', priority => 9)",
      [flow],
    );
    expect({ run: again?.run_id, priority: again?.priority }).toEqual({ run: first?.run_id, priority: 4 });
  });

  it('refuses a priority out of range, naming it, and writes nothing', async () => {
    const flow = await oneStepFlow();
    await expectEngineError(startWithPriority(flow, 'x', 1000001), { code: 'PF060', naming: ['1000001'] });
    await expectEngineError(
      db.query('select * from pgflow.start_flows($1, $2::jsonb, priority => -1000001)', [flow, json([1, 2])]),
      { code: 'PF060', naming: ['-1000001'] },
    );
    expect(await runCount(flow)).toBe(0);
    expect(await queueMessages(db, flow)).toEqual([]);
  });

  it('a child run started by a subflow step gets its parent run priority', async () => {
    const child = await oneStepFlow();
    const parent = `prio_parent_${++flows}`;
    await defineFlow(db, parent, [{ slug: 'delegate' }]);
    const run = await startWithPriority(parent, { n: 1 }, 6);
    const task = await pollOne(db, parent, 'delegate');
    const [row] = await db.query<{ result: { child_run_id: string } }>(
      'select pgflow._start_child_run($1::uuid, $2, $3, 1, $4, $5::jsonb) as result',
      [run.run_id, task.step_slug, task.task_index, child, json({ n: 2 })],
    );
    const childRun = (await runRow(db, row?.result.child_run_id as string)) as PriorityRun;
    expect({ parent: childRun.parent_run_id, priority: childRun.priority }).toEqual({
      parent: run.run_id,
      priority: 6,
    });
  });
});
