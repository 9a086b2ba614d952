/**
 * Many connections at once: completions of one map step's tasks (one by one and batched), fan-in
 * from concurrent completions, and concurrent polling. No lost decrement, no deadlock, no task
 * started twice, and a run completes exactly once.
 */
import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import {
  type Completion,
  completeTask,
  completeTasks,
  defineFlow,
  onClient,
  pollTasks,
  queueMessages,
  runRow,
  startRun,
  stepState,
  stepTasks,
  type TaskRecord,
} from './support/engine-driver.ts';
import { eventNames, listenToRun } from './support/engine-events.ts';

const db = useTestDatabase();

const TASKS = 200;
const CONNECTIONS = 4;

async function connections(count: number): Promise<pg.Client[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => db.connect(`engine concurrency ${i}`)));
}

/** Task indexes dealt round-robin to `count` connections: disjoint, interleaved. */
function deal(total: number, count: number): number[][] {
  const hands: number[][] = Array.from({ length: count }, () => []);
  for (let index = 0; index < total; index++) hands[index % count]?.push(index);
  return hands;
}

async function startBigMap(slug: string): Promise<string> {
  const run = await startRun(
    db,
    slug,
    Array.from({ length: TASKS }, (_, i) => i),
  );
  expect(await pollTasks(db, slug, { qty: TASKS })).toHaveLength(TASKS);
  return run.run_id;
}

async function expectCompletedOnce(slug: string, runId: string, events: Awaited<ReturnType<typeof listenToRun>>) {
  const state = await stepState(db, runId, 'each');
  expect(state).toMatchObject({ status: 'completed', remaining_tasks: 0, initial_tasks: TASKS });
  expect(state.output).toEqual(Array.from({ length: TASKS }, (_, i) => i * 2));
  expect(await stepState(db, runId, 'sum')).toMatchObject({ status: 'started', remaining_deps: 0 });
  const tasks = await stepTasks(db, runId, 'each');
  expect(tasks.filter((t) => t.status === 'completed')).toHaveLength(TASKS);
  expect(await queueMessages(db, slug, runId)).toHaveLength(1); // sum's message, once

  const [sum] = await pollTasks(db, slug, { runId });
  await completeTask(db, runId, 'sum', 0, 'total');
  expect(sum?.input).toEqual({ each: state.output });
  expect(await runRow(db, runId)).toMatchObject({ status: 'completed', remaining_steps: 0 });

  await events.settle();
  const kinds = eventNames(events.events());
  expect(kinds.filter((k) => k === 'run:completed')).toHaveLength(1);
  expect(kinds.filter((k) => k === 'step:completed each')).toHaveLength(1);
  expect(kinds.filter((k) => k === 'step:started sum')).toHaveLength(1);
  await events.close();
}

describe('completing one map step from several connections at once', () => {
  it(`${CONNECTIONS} connections completing ${TASKS} tasks one by one lose no decrement and complete the run once`, async () => {
    await defineFlow(db, 'parallel_single', [
      { slug: 'each', type: 'map' },
      { slug: 'sum', deps: ['each'] },
    ]);
    const runId = await startBigMap('parallel_single');
    const events = await listenToRun(db, runId);
    const clients = await connections(CONNECTIONS);
    await Promise.all(
      deal(TASKS, CONNECTIONS).map(async (indexes, i) => {
        const sql = onClient(clients[i] as pg.Client);
        for (const index of indexes) await completeTask(sql, runId, 'each', index, index * 2);
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    await expectCompletedOnce('parallel_single', runId, events);
  });

  it(`${CONNECTIONS} connections completing ${TASKS} tasks in batches lose no decrement and complete the run once`, async () => {
    await defineFlow(db, 'parallel_batch', [
      { slug: 'each', type: 'map' },
      { slug: 'sum', deps: ['each'] },
    ]);
    const runId = await startBigMap('parallel_batch');
    const events = await listenToRun(db, runId);
    const clients = await connections(CONNECTIONS);
    const counts = await Promise.all(
      deal(TASKS, CONNECTIONS).map(async (indexes, i) => {
        const sql = onClient(clients[i] as pg.Client);
        let completed = 0;
        for (let start = 0; start < indexes.length; start += 10) {
          const batch: Completion[] = indexes
            .slice(start, start + 10)
            .map((index) => ({ run_id: runId, step_slug: 'each', task_index: index, output: index * 2 }));
          completed += await completeTasks(sql, batch);
        }
        return completed;
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(TASKS);
    await expectCompletedOnce('parallel_batch', runId, events);
  });

  it('connections completing the same tasks at once complete each task once', async () => {
    await defineFlow(db, 'parallel_duplicates', [
      { slug: 'each', type: 'map' },
      { slug: 'sum', deps: ['each'] },
    ]);
    const runId = await startBigMap('parallel_duplicates');
    const events = await listenToRun(db, runId);
    const clients = await connections(CONNECTIONS);
    const all: Completion[] = Array.from({ length: TASKS }, (_, index) => ({
      run_id: runId,
      step_slug: 'each',
      task_index: index,
      output: index * 2,
    }));
    // Every connection sends every task, each in its own order.
    const counts = await Promise.all(
      clients.map(async (client, i) => {
        const order = i % 2 === 0 ? all : [...all].reverse();
        let completed = 0;
        for (let start = 0; start < TASKS; start += 25) {
          completed += await completeTasks(onClient(client), order.slice(start, start + 25));
        }
        return completed;
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(TASKS);
    await expectCompletedOnce('parallel_duplicates', runId, events);
  });
});

describe('batches that cross runs in opposite orders', () => {
  it('two connections completing tasks of the same two runs in opposite orders do not deadlock', async () => {
    await defineFlow(db, 'crossed', [{ slug: 'each', type: 'map' }]);
    const size = 60;
    const first = await startRun(
      db,
      'crossed',
      Array.from({ length: size }, (_, i) => i),
    );
    const second = await startRun(
      db,
      'crossed',
      Array.from({ length: size }, (_, i) => i),
    );
    expect(await pollTasks(db, 'crossed', { qty: 2 * size })).toHaveLength(2 * size);
    const clients = await connections(2);
    const [even, odd] = deal(size, 2);
    const plans: Array<[pg.Client, number[], string[]]> = [
      [clients[0] as pg.Client, even ?? [], [first.run_id, second.run_id]],
      [clients[1] as pg.Client, odd ?? [], [second.run_id, first.run_id]],
    ];
    const counts = await Promise.all(
      plans.map(async ([client, indexes, runOrder]) => {
        let completed = 0;
        for (const index of indexes) {
          const batch = runOrder.map((runId) => ({
            run_id: runId,
            step_slug: 'each',
            task_index: index,
            output: index,
          }));
          completed += await completeTasks(onClient(client), batch);
        }
        return completed;
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(counts).toEqual([size, size]);
    for (const run of [first, second]) {
      expect(await runRow(db, run.run_id)).toMatchObject({
        status: 'completed',
        output: { each: Array.from({ length: size }, (_, i) => i) },
      });
    }
  });
});

describe('fan-in from concurrent completions', () => {
  it('a step waiting on 20 steps completed from 4 connections at once starts exactly once', async () => {
    const roots = Array.from({ length: 20 }, (_, i) => ({ slug: `root${i}` }));
    await defineFlow(db, 'wide_fan_in', [...roots, { slug: 'join', deps: roots.map((r) => r.slug) }]);
    const run = await startRun(db, 'wide_fan_in', {});
    expect(await pollTasks(db, 'wide_fan_in')).toHaveLength(20);
    const clients = await connections(CONNECTIONS);
    await Promise.all(
      deal(20, CONNECTIONS).map(async (indexes, i) => {
        const sql = onClient(clients[i] as pg.Client);
        for (const index of indexes) await completeTask(sql, run.run_id, `root${index}`, 0, index);
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(await stepState(db, run.run_id, 'join')).toMatchObject({ status: 'started', remaining_deps: 0 });
    expect(await stepTasks(db, run.run_id, 'join')).toHaveLength(1);
    const [join] = await pollTasks(db, 'wide_fan_in');
    expect(Object.keys(join?.input as object).sort()).toEqual(roots.map((r) => r.slug).sort());
  });
});

describe('concurrent polling', () => {
  it('two workers polling at once never start the same task', async () => {
    await defineFlow(db, 'two_pollers', [{ slug: 'each', type: 'map' }]);
    const run = await startRun(
      db,
      'two_pollers',
      Array.from({ length: 60 }, (_, i) => i),
    );
    const clients = await connections(2);
    const taken = await Promise.all(
      clients.map(async (client) => {
        const sql = onClient(client);
        const mine: TaskRecord[] = [];
        for (;;) {
          const batch = await pollTasks(sql, 'two_pollers', { qty: 7 });
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    const indexes = taken.flat().map((t) => t.task_index);
    expect(indexes).toHaveLength(60);
    expect(new Set(indexes).size).toBe(60);
    const tasks = await stepTasks(db, run.run_id, 'each');
    expect(tasks.every((t) => t.status === 'started' && t.attempts_count === 1)).toBe(true);
  });
});
