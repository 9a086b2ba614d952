/**
 * Per-key concurrency (options.concurrencyPerKey): a run started over its key's limit stays
 * 'started' but waits (concurrency_state 'waiting', a ticket, no step started, run:concurrency_limited);
 * when an admitted run of the key ends (completed, failed, cancelled), its slot is given back at
 * commit and the next waiting run, by priority then ticket, is admitted (run:admitted) and starts.
 * The ledger (pgflow.concurrency_keys) counts the admitted runs in progress.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  admission,
  claim,
  compileLimited,
  keyedRuns,
  ledger,
  startedSteps,
  startKeyed,
} from './support/concurrency.ts';
import {
  completeTask,
  completeTasks,
  failTask,
  onClient,
  pollOne,
  queueMessages,
  type Sql,
  stepTasks,
} from './support/engine-driver.ts';
import { eventNames, listen, runChannel } from './support/engine-events.ts';

const db = useTestDatabase();

let flows = 0;
/** A new one-step flow (`work`) with the per-key limit, so that every test has its own keys and queue. */
async function keyedFlow(perKey: number): Promise<string> {
  const slug = `ca_${++flows}`;
  await compileLimited(db, slug, { concurrencyPerKey: perKey, maxAttempts: 1, steps: [{ slug: 'work' }] });
  return slug;
}

type Ending = 'complete' | 'fail' | 'cancel';

/** Ends a run whose task is ready: claims it and completes or fails it, or cancels the run. */
async function endRun(sql: Sql, flowSlug: string, runId: string, how: Ending = 'complete'): Promise<void> {
  if (how === 'cancel') {
    await sql.query('select pgflow.cancel_run($1::uuid)', [runId]);
    return;
  }
  const task = await pollOne(sql, flowSlug, 'work', { runId });
  if (how === 'complete') await completeTask(sql, runId, 'work', task.task_index, 'done');
  else await failTask(sql, runId, 'work', task.task_index, 'boom');
}

function ids(runs: readonly { run_id: string }[]): string[] {
  return runs.map((r) => r.run_id);
}

describe('admitting runs per key', () => {
  it('admits up to the limit per key; the rest wait with tickets in start order and start no step', async () => {
    const flow = await keyedFlow(2);
    const runs = await startKeyed(db, flow, ['A', 'A', 'A', 'A', 'A', 'B']);
    expect(runs.map((r) => r.concurrency_state)).toEqual([
      'admitted',
      'admitted',
      'waiting',
      'waiting',
      'waiting',
      'admitted',
    ]);
    const tickets = runs.slice(2, 5).map((r) => BigInt(r.concurrency_ticket ?? -1));
    expect(tickets.every((t) => t > 0n)).toBe(true);
    expect([...tickets].sort((a, b) => (a < b ? -1 : 1))).toEqual(tickets);
    expect(runs.every((r) => r.status === 'started')).toBe(true);
    for (const [i, run] of runs.entries()) expect(await startedSteps(db, run.run_id)).toBe(i >= 2 && i < 5 ? 0 : 1);
    expect(await ledger(db, flow)).toEqual({ A: 2, B: 1 });
    const claimed = await claim(db, flow);
    expect(claimed.map((c) => c.run_id).sort()).toEqual(ids([runs[0], runs[1], runs[5]] as never).sort());
  });

  it('start_flows with mixed keys: each key counted on its own, runs without a key never wait', async () => {
    const flow = await keyedFlow(1);
    const runs = await startKeyed(db, flow, ['B', null, 'A', 'B', null, 'A', 'C']);
    expect(runs.map((r) => [r.concurrency_key, r.concurrency_state])).toEqual([
      ['B', 'admitted'],
      [null, null],
      ['A', 'admitted'],
      ['B', 'waiting'],
      [null, null],
      ['A', 'waiting'],
      ['C', 'admitted'],
    ]);
    expect(await ledger(db, flow)).toEqual({ A: 1, B: 1, C: 1 });
    // A later start of a key with a slot in use waits behind the key's earlier runs.
    const [late] = await startKeyed(db, flow, ['A']);
    expect(BigInt(late?.concurrency_ticket ?? 0)).toBeGreaterThan(BigInt(runs[5]?.concurrency_ticket ?? 0));
  });

  it.each<Ending>(['complete', 'fail', 'cancel'])(
    'a run that ends (%s) admits exactly the next waiting run of its key, which starts',
    async (how) => {
      const flow = await keyedFlow(2);
      const runs = await startKeyed(db, flow, ['A', 'A', 'A', 'A', 'B']);
      await endRun(db, flow, runs[0]?.run_id as string, how);
      expect(await admission(db, ids(runs))).toEqual(['admitted', 'admitted', 'admitted', 'waiting', 'admitted']);
      expect((await keyedRuns(db, [runs[0]?.run_id as string]))[0]?.status).toBe(
        { complete: 'completed', fail: 'failed', cancel: 'cancelled' }[how],
      );
      expect(await startedSteps(db, runs[2]?.run_id as string)).toBe(1);
      expect(await startedSteps(db, runs[3]?.run_id as string)).toBe(0);
      expect(await ledger(db, flow)).toEqual({ A: 2, B: 1 });
      expect((await claim(db, flow)).map((c) => c.run_id).sort()).toEqual(
        ids([runs[1], runs[2], runs[4]] as never).sort(),
      );
    },
  );

  it('admits waiting runs by priority, then in ticket order', async () => {
    const flow = await keyedFlow(1);
    const [first] = await startKeyed(db, flow, ['A']);
    const [low] = await startKeyed(db, flow, ['A'], { priority: 0 });
    const [highEarly] = await startKeyed(db, flow, ['A'], { priority: 5 });
    const [highLate] = await startKeyed(db, flow, ['A'], { priority: 5 });
    const [negative] = await startKeyed(db, flow, ['A'], { priority: -3 });
    const order: string[] = [];
    let current = first?.run_id as string;
    for (let i = 0; i < 4; i++) {
      await endRun(db, flow, current);
      const admitted = (await keyedRuns(db, ids([low, highEarly, highLate, negative] as never))).filter(
        (r) => r.concurrency_state === 'admitted' && r.status === 'started',
      );
      expect(admitted).toHaveLength(1);
      current = admitted[0]?.run_id as string;
      order.push(current);
      expect(await ledger(db, flow)).toEqual({ A: 1 });
    }
    expect(order).toEqual(ids([highEarly, highLate, low, negative] as never));
  });

  it('sends run:concurrency_limited to a run that waits and run:admitted when it is admitted', async () => {
    const flow = await keyedFlow(1);
    const runIds = [randomUUID(), randomUUID()];
    const listener = await listen(db, runIds.map(runChannel));
    await startKeyed(db, flow, ['A', 'A'], { runIds });
    await listener.settle();
    const names = (runId: string) =>
      eventNames(listener.events().filter((e) => e.run_id === runId && e.event_type.startsWith('run:')));
    expect(names(runIds[0] as string)).toEqual(['run:started']);
    expect(names(runIds[1] as string)).toEqual(['run:started', 'run:concurrency_limited']);
    const limited = listener.events().find((e) => e.event_type === 'run:concurrency_limited');
    expect(limited).toMatchObject({ run_id: runIds[1], flow_slug: flow, concurrency_key: 'A', status: 'started' });

    await endRun(db, flow, runIds[0] as string);
    await listener.settle();
    expect(names(runIds[1] as string)).toEqual(['run:started', 'run:concurrency_limited', 'run:admitted']);
    expect(listener.events().filter((e) => e.event_type === 'run:admitted')).toEqual([
      expect.objectContaining({ run_id: runIds[1], concurrency_key: 'A' }),
    ]);
    await listener.close();
  });

  it('carries a key of any characters intact in run events, on the run and the flow channels', async () => {
    const flow = await keyedFlow(1);
    const key = 'tenant "a\\b" / line\nbreak é 🙂';
    const runId = randomUUID();
    const listener = await listen(db, [runChannel(runId), `pgflow:flow:${flow}`]);
    await startKeyed(db, flow, [key], { runIds: [runId] });
    await endRun(db, flow, runId);
    await listener.settle();
    const runEvents = listener.notifications.map((n) => ({ channel: n.channel, ...JSON.parse(n.payload) }));
    for (const channel of [runChannel(runId), `pgflow:flow:${flow}`]) {
      expect(runEvents.filter((e) => e.channel === channel && e.event_type === 'run:completed')).toEqual([
        expect.objectContaining({ run_id: runId, flow_slug: flow, status: 'completed', concurrency_key: key }),
      ]);
    }
    await listener.close();
  });

  it('a waiting run that is cancelled gives back no slot and admits nobody', async () => {
    const flow = await keyedFlow(1);
    const runs = await startKeyed(db, flow, ['A', 'A', 'A']);
    await endRun(db, flow, runs[1]?.run_id as string, 'cancel');
    const [admitted, , third] = await keyedRuns(db, ids(runs));
    expect(admitted).toMatchObject({ status: 'started', concurrency_state: 'admitted' });
    expect(third).toMatchObject({ status: 'started', concurrency_state: 'waiting' });
    expect((await keyedRuns(db, [runs[1]?.run_id as string]))[0]).toMatchObject({
      status: 'cancelled',
      concurrency_state: null,
    });
    expect(await ledger(db, flow)).toEqual({ A: 1 });
  });

  it('several runs of a key ending in one batch admit as many waiting runs', async () => {
    const flow = await keyedFlow(2);
    const runs = await startKeyed(db, flow, ['A', 'A', 'A', 'A', 'A']);
    const tasks = await claim(db, flow);
    expect(tasks).toHaveLength(2);
    await completeTasks(
      db,
      tasks.map((t) => ({ run_id: t.run_id, step_slug: 'work', task_index: t.task_index, output: 'done' })),
    );
    expect(await admission(db, ids(runs))).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'waiting']);
    expect(await ledger(db, flow)).toEqual({ A: 2 });
  });

  it('a rolled-back completion gives back nothing', async () => {
    const flow = await keyedFlow(1);
    const runs = await startKeyed(db, flow, ['A', 'A']);
    const task = await pollOne(db, flow, 'work', { runId: runs[0]?.run_id });
    const client = await db.connect();
    await client.query('begin');
    await completeTask(onClient(client), runs[0]?.run_id as string, 'work', task.task_index, 'done');
    await client.query('rollback');
    expect(await admission(db, ids(runs))).toEqual(['admitted', 'waiting']);
    expect(await ledger(db, flow)).toEqual({ A: 1 });
    expect(await startedSteps(db, runs[1]?.run_id as string)).toBe(0);
    // The completion, done again, does give the slot back.
    await completeTask(db, runs[0]?.run_id as string, 'work', task.task_index, 'done');
    expect(await admission(db, ids(runs))).toEqual(['admitted', 'admitted']);
    expect(await ledger(db, flow)).toEqual({ A: 1 });
  });
});

describe('concurrent run ends', () => {
  it('never admit over the limit, from several connections at once, with starts in between', async () => {
    const limit = 3;
    const flow = await keyedFlow(limit);
    await startKeyed(db, flow, Array(15).fill('A'));
    const clients = await Promise.all(Array.from({ length: limit + 1 }, () => db.connect()));
    const sqls = clients.map(onClient);
    const inProgress = async () =>
      db.query<{ run_id: string }>(
        "select run_id from pgflow.runs where flow_slug = $1 and concurrency_state = 'admitted' and status = 'started'",
        [flow],
      );
    for (let round = 0; round < 30; round++) {
      const running = await inProgress();
      expect(running.length).toBeLessThanOrEqual(limit);
      expect(await ledger(db, flow)).toEqual({ A: running.length });
      if (running.length === 0) break;
      const tasks = await claim(db, flow);
      expect(tasks.length).toBeLessThanOrEqual(limit);
      // Each ending run in a transaction of its own, and a start on the spare connection in the first
      // rounds; all commit at once.
      await Promise.all(clients.map((client) => client.query('begin')));
      await Promise.all([
        ...tasks.map((task, i) => completeTask(sqls[i] as Sql, task.run_id, 'work', task.task_index, 'done')),
        round < 3 ? startKeyed(sqls[limit] as Sql, flow, ['A', 'A']) : Promise.resolve(),
      ]);
      await Promise.all(clients.map((client) => client.query('commit')));
    }
    const [counts] = await db.query<{ completed: number; other: number }>(
      `select count(*) filter (where status = 'completed')::int as completed,
              count(*) filter (where status <> 'completed')::int as other
         from pgflow.runs where flow_slug = $1`,
      [flow],
    );
    expect(counts).toEqual({ completed: 21, other: 0 });
    expect(await ledger(db, flow)).toEqual({ A: 0 });
  });
});

describe('changing the per-key limit', () => {
  it('raising it admits the waiting runs it leaves room for; clearing it admits all', async () => {
    const flow = await keyedFlow(1);
    const runs = await startKeyed(db, flow, ['A', 'A', 'A', 'A', 'A', 'B', 'B']);
    expect(await admission(db, ids(runs))).toEqual([
      'admitted',
      'waiting',
      'waiting',
      'waiting',
      'waiting',
      'admitted',
      'waiting',
    ]);
    await compileLimited(db, flow, { concurrencyPerKey: 3, maxAttempts: 1, steps: [{ slug: 'work' }] });
    expect(await admission(db, ids(runs))).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'waiting',
      'waiting',
      'admitted',
      'admitted',
    ]);
    expect(await ledger(db, flow)).toEqual({ A: 3, B: 2 });
    expect(await startedSteps(db, runs[2]?.run_id as string)).toBe(1);

    // Lowering it admits nobody and stops nobody.
    await compileLimited(db, flow, { concurrencyPerKey: 2, maxAttempts: 1, steps: [{ slug: 'work' }] });
    expect(await ledger(db, flow)).toEqual({ A: 3, B: 2 });

    await compileLimited(db, flow, { maxAttempts: 1, steps: [{ slug: 'work' }] });
    expect(await admission(db, ids(runs))).toEqual(Array(7).fill('admitted'));
    expect(await ledger(db, flow)).toEqual({ A: 5, B: 2 });
    expect(await claim(db, flow)).toHaveLength(7);
  });
});

describe('retrying a keyed run', () => {
  it("waits for a slot when its key has none, with its task's message held, and starts when one frees", async () => {
    const flow = await keyedFlow(1);
    const [first, second] = await startKeyed(db, flow, ['A', 'A']);
    await endRun(db, flow, first?.run_id as string, 'fail');
    expect((await keyedRuns(db, ids([first, second] as never))).map((r) => r.status)).toEqual(['failed', 'started']);
    expect(await admission(db, [second?.run_id as string])).toEqual(['admitted']);

    await db.query('select 1 from pgflow.retry_run($1::uuid)', [first?.run_id]);
    const [retried] = await keyedRuns(db, [first?.run_id as string]);
    expect(retried).toMatchObject({ status: 'started', concurrency_state: 'waiting' });
    expect(BigInt(retried?.concurrency_ticket ?? 0)).toBeGreaterThan(BigInt(second?.concurrency_ticket ?? 0));
    expect(await ledger(db, flow)).toEqual({ A: 1 });
    const [held] = await queueMessages(db, flow, first?.run_id);
    expect(new Date(held?.vt as Date).getUTCFullYear()).toBe(9999);
    // Only the admitted run's task is claimed.
    expect(await claim(db, flow)).toEqual([expect.objectContaining({ run_id: second?.run_id })]);

    await completeTask(db, second?.run_id as string, 'work', 0, 'done');
    expect(await admission(db, [first?.run_id as string])).toEqual(['admitted']);
    expect(await claim(db, flow)).toEqual([expect.objectContaining({ run_id: first?.run_id, step_slug: 'work' })]);
    await completeTask(db, first?.run_id as string, 'work', 0, 'done');
    expect((await keyedRuns(db, [first?.run_id as string]))[0]?.status).toBe('completed');
    expect(await ledger(db, flow)).toEqual({ A: 0 });
  });

  it('takes a free slot again at once', async () => {
    const flow = await keyedFlow(1);
    const [run] = await startKeyed(db, flow, ['A']);
    await endRun(db, flow, run?.run_id as string, 'fail');
    expect(await ledger(db, flow)).toEqual({ A: 0 });
    await db.query('select 1 from pgflow.retry_run($1::uuid)', [run?.run_id]);
    expect(await admission(db, [run?.run_id as string])).toEqual(['admitted']);
    expect(await ledger(db, flow)).toEqual({ A: 1 });
    expect((await stepTasks(db, run?.run_id as string, 'work'))[0]?.status).toBe('queued');
    expect(await claim(db, flow)).toHaveLength(1);
  });
});
