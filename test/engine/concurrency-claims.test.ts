/**
 * Flow and step concurrency limits at the claim: _claim_tasks (the library's worker) and pgflow's
 * start_tasks (after a read_with_poll) never start more of a flow's tasks than options.concurrency, nor
 * of a step's than its options.concurrency, across runs and concurrent claims. The messages over the
 * limit stay queued, with no attempt counted, and are claimed once a task ends; a step at its limit
 * does not hold back the flow's other steps.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  type Claimed,
  claim,
  compileLimited,
  type LimitedShape,
  startedTasks,
  startKeyed,
} from './support/concurrency.ts';
import { completeTask, onClient, runRow, type Sql, startTasks } from './support/engine-driver.ts';
import { listen } from './support/engine-events.ts';

const db = useTestDatabase();

let flows = 0;
async function limitedFlow(shape: LimitedShape): Promise<string> {
  const slug = `cc_${++flows}`;
  await compileLimited(db, slug, shape);
  return slug;
}

/** Starts one run of the flow whose root map steps get `elements` elements. */
async function startMapRun(flowSlug: string, elements: number): Promise<string> {
  const [run] = await startKeyed(db, flowSlug, [null], { input: () => Array.from({ length: elements }, (_, i) => i) });
  return run?.run_id as string;
}

async function complete(tasks: readonly Claimed[]): Promise<void> {
  for (const task of tasks) await completeTask(db, task.run_id, task.step_slug, task.task_index, task.task_index);
}

async function queuedTasks(flowSlug: string): Promise<{ n: number; attempts: number }> {
  const [row] = await db.query<{ n: number; attempts: number }>(
    `select count(*)::int as n, coalesce(sum(attempts_count), 0)::int as attempts
       from pgflow.step_tasks where flow_slug = $1 and status = 'queued'`,
    [flowSlug],
  );
  return row ?? { n: -1, attempts: -1 };
}

describe("a flow's concurrency limit", () => {
  it('never has more than the limit of a 10-element map started; the rest start as tasks complete', async () => {
    const flow = await limitedFlow({ concurrency: 3, steps: [{ slug: 'items', type: 'map' }] });
    const runId = await startMapRun(flow, 10);
    const first = await claim(db, flow);
    expect(first).toHaveLength(3);
    expect(await claim(db, flow)).toEqual([]);
    expect(await queuedTasks(flow)).toEqual({ n: 7, attempts: 0 });

    let done = 0;
    let running = first;
    while (running.length > 0) {
      expect(await startedTasks(db, flow)).toBe(running.length);
      // One ends: exactly one more starts, however often the queue is polled.
      const [ended, ...rest] = running;
      await complete([ended as Claimed]);
      done++;
      const more = await claim(db, flow);
      expect(await claim(db, flow)).toEqual([]);
      expect(more.length).toBe(done + rest.length < 10 ? 1 : 0);
      running = [...rest, ...more];
      expect(running.length).toBeLessThanOrEqual(3);
    }
    expect(done).toBe(10);
    expect((await runRow(db, runId)).status).toBe('completed');
  });

  it('counts the started tasks of all the runs of the flow', async () => {
    const flow = await limitedFlow({ concurrency: 4, steps: [{ slug: 'items', type: 'map' }] });
    for (let i = 0; i < 3; i++) await startMapRun(flow, 3);
    expect(await claim(db, flow, 2)).toHaveLength(2);
    expect(await claim(db, flow)).toHaveLength(2);
    expect(await claim(db, flow)).toEqual([]);
    expect(await startedTasks(db, flow)).toBe(4);
  });

  it("wakes the flow's workers when a task ends, since no new message would", async () => {
    const flow = await limitedFlow({ concurrency: 1, steps: [{ slug: 'items', type: 'map' }] });
    await startMapRun(flow, 3);
    const [task] = await claim(db, flow);
    const listener = await listen(db, ['pgflow:work']);
    await complete([task as Claimed]);
    await listener.settle();
    expect(listener.notifications.filter((n) => n.payload === flow)).toHaveLength(1);
    await listener.close();
  });

  it('never grants more than the limit to two claims at once', async () => {
    const flow = await limitedFlow({ concurrency: 3, steps: [{ slug: 'items', type: 'map' }] });
    await startMapRun(flow, 20);
    const clients = [await db.connect(), await db.connect()];
    await Promise.all(clients.map((client) => client.query('begin')));
    const claims = await Promise.all(
      clients.map(async (client) => {
        const rows = await claim(onClient(client), flow, 10);
        await client.query('commit');
        return rows;
      }),
    );
    expect((claims[0]?.length ?? 0) + (claims[1]?.length ?? 0)).toBe(3);
    expect(await startedTasks(db, flow)).toBe(3);
    expect(await queuedTasks(flow)).toEqual({ n: 17, attempts: 0 });
  });
});

describe("a step's concurrency limit", () => {
  const SHAPE: LimitedShape = {
    steps: [
      { slug: 'limited', type: 'map', concurrency: 2 },
      { slug: 'free', type: 'map' },
    ],
  };

  it('starts at most its limit of its tasks, while the unlimited step of the flow starts all of its own', async () => {
    const flow = await limitedFlow(SHAPE);
    await startMapRun(flow, 6);
    const claimed = await claim(db, flow);
    expect(claimed.filter((t) => t.step_slug === 'limited')).toHaveLength(2);
    expect(claimed.filter((t) => t.step_slug === 'free')).toHaveLength(6);
    expect(await claim(db, flow)).toEqual([]);

    // The unlimited step's ends free nothing for the limited one; the limited one's do, one each.
    await complete(claimed.filter((t) => t.step_slug === 'free'));
    expect(await claim(db, flow)).toEqual([]);
    let started = 2;
    let running = claimed.filter((t) => t.step_slug === 'limited');
    while (running.length > 0) {
      expect(await startedTasks(db, flow, 'limited')).toBe(running.length);
      const [ended, ...rest] = running;
      await complete([ended as Claimed]);
      const more = await claim(db, flow);
      started += more.length;
      running = [...rest, ...more];
      expect(running.length).toBeLessThanOrEqual(2);
    }
    expect(started).toBe(6);
  });

  it("at its limit, its backlog does not hide the other step's messages from a small claim", async () => {
    const flow = await limitedFlow({
      steps: [
        { slug: 'bulk', type: 'map', concurrency: 2 },
        { slug: 'other', type: 'map' },
      ],
    });
    await startMapRun(flow, 10);
    // The limited step's messages come first in the queue (a run's steps are sent in slug order): a
    // claim of 2 takes two of them, the next claim of 2 the other step's, not none.
    expect((await claim(db, flow, 2)).map((t) => t.step_slug)).toEqual(['bulk', 'bulk']);
    expect((await claim(db, flow, 2)).map((t) => t.step_slug)).toEqual(['other', 'other']);
    expect(await startedTasks(db, flow, 'bulk')).toBe(2);
  });

  it('and a flow limit apply together', async () => {
    const flow = await limitedFlow({ ...SHAPE, concurrency: 5 });
    await startMapRun(flow, 6);
    const claimed = await claim(db, flow);
    expect(claimed).toHaveLength(5);
    expect(claimed.filter((t) => t.step_slug === 'limited').length).toBeLessThanOrEqual(2);
    expect(await claim(db, flow)).toEqual([]);
  });
});

describe("pgflow's read_with_poll and start_tasks", () => {
  /** A pgflow worker's poll: read_with_poll, then start_tasks for what it read. */
  async function pgflowPoll(sql: Sql, flowSlug: string): Promise<{ read: number; started: Claimed[] }> {
    const messages = await sql.query<{ msg_id: string }>('select msg_id from pgmq.read_with_poll($1, 30, 20, 1, 50)', [
      flowSlug,
    ]);
    if (messages.length === 0) return { read: 0, started: [] };
    const started = await startTasks(
      sql,
      flowSlug,
      messages.map((m) => m.msg_id),
    );
    return { read: messages.length, started: started as unknown as Claimed[] };
  }

  it("start only what the flow's limit leaves, and hand the other messages back at once", async () => {
    const flow = await limitedFlow({ concurrency: 3, steps: [{ slug: 'items', type: 'map' }] });
    await startMapRun(flow, 10);
    const first = await pgflowPoll(db, flow);
    expect(first).toMatchObject({ read: 10 });
    expect(first.started).toHaveLength(3);
    expect(await queuedTasks(flow)).toEqual({ n: 7, attempts: 0 });
    // Handed back visible: read again at once, and again none starts while the flow is at its limit.
    expect(await pgflowPoll(db, flow)).toEqual({ read: 7, started: [] });
    expect(await startedTasks(db, flow)).toBe(3);

    await complete(first.started.slice(0, 2));
    const next = await pgflowPoll(db, flow);
    expect(next.started).toHaveLength(2);
    expect(await startedTasks(db, flow)).toBe(3);
  });

  it("start only what a step's limit leaves, and all of an unlimited step's", async () => {
    const flow = await limitedFlow({
      steps: [
        { slug: 'limited', type: 'map', concurrency: 2 },
        { slug: 'free', type: 'map' },
      ],
    });
    await startMapRun(flow, 5);
    const { started } = await pgflowPoll(db, flow);
    expect(started.filter((t) => t.step_slug === 'limited')).toHaveLength(2);
    expect(started.filter((t) => t.step_slug === 'free')).toHaveLength(5);
  });

  it('share one count with the worker path', async () => {
    const flow = await limitedFlow({ concurrency: 4, steps: [{ slug: 'items', type: 'map' }] });
    await startMapRun(flow, 10);
    expect(await claim(db, flow, 3)).toHaveLength(3);
    expect((await pgflowPoll(db, flow)).started).toHaveLength(1);
    expect(await claim(db, flow)).toEqual([]);
    expect(await startedTasks(db, flow)).toBe(4);
  });
});
