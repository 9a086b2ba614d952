/**
 * Subflows across a crash: the worker process holding the parent runs' subflow tasks (waiting for
 * their child runs) is killed with SIGKILL while the children run. The waiting parent tasks are not
 * requeued (the sweep passes them by: restarting them would start their children again); the
 * children's tasks the dead worker held are, and another worker finishes everything: every child run
 * completes exactly once, every parent task that was waiting completes on its first attempt, every
 * run's output is right.
 */
import { expectedFanoutOutput } from '../processes/reliability-flows.ts';
import { SUBFLOW_CHILD_SLUG, SUBFLOW_PARENT_SLUG } from '../processes/subflow-flows.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { instrument } from './support/audit.ts';
import { waitForRunsToEnd } from './support/fanout-runs.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();

const RUNS = 3;
const ITEMS = [1, 2, 3, 4];

beforeAll(() => instrument(db));

it('a worker holding parent tasks is killed while their children run; another worker finishes everything, each child completes once', async () => {
  const victim = await workers.start({
    url: db.url,
    label: 'victim',
    flow: 'subflows',
    delayMs: [800, 1200],
    worker: { maxConcurrent: 4, declareDeadAfterMs: 2_000 },
  });
  const runIds: string[] = [];
  for (let n = 0; n < RUNS; n++) {
    const [row] = await db.query<{ run_id: string }>('select run_id from pgflow.start_flow($1, $2::jsonb)', [
      SUBFLOW_PARENT_SLUG,
      JSON.stringify({ items: ITEMS }),
    ]);
    runIds.push(row?.run_id as string);
  }

  // Parent tasks wait for their children, and the victim runs children's tasks.
  await waitFor(
    async () => {
      const [row] = await db.query<{ waiting: number; running: number }>(
        `select (select count(*)::int from pgflow.step_tasks t
                  where t.run_id = any($1::uuid[]) and t.step_slug = 'delegate' and t.child_run_id is not null) as waiting,
                (select count(*)::int from pgflow.step_tasks t join pgflow.runs c on c.run_id = t.run_id
                  where c.parent_run_id = any($1::uuid[]) and t.status = 'started') as running`,
        [runIds],
      );
      return row !== undefined && row.waiting >= 2 && row.running > 0 ? row : undefined;
    },
    { timeoutMs: 60_000, description: 'parent tasks waiting for their children while children run' },
  );
  // Killed now, with no other worker running, the victim leaves the runs as they are: the parent
  // tasks waiting for a child stay so (its tasks still in a handler are requeued like any task of a
  // dead worker) until the rescuer starts, however long starting it takes.
  await victim.killNow();
  const waiting = await db.query<{ run_id: string; task_index: number }>(
    `select run_id, task_index from pgflow.step_tasks
      where run_id = any($1::uuid[]) and step_slug = 'delegate' and child_run_id is not null`,
    [runIds],
  );
  expect(waiting.length).toBeGreaterThan(0);
  const rescuer = await workers.start({ url: db.url, label: 'rescuer', flow: 'subflows', delayMs: [0, 50] });

  expect(await waitForRunsToEnd(db, runIds, 120_000)).toBe(RUNS);
  const outputs = await db.query<{ output: unknown }>('select output from pgflow.runs where run_id = any($1::uuid[])', [
    runIds,
  ]);
  expect(outputs.map((row) => row.output)).toEqual(Array(RUNS).fill(expectedFanoutOutput(ITEMS)));

  const children = await db.query<{ run_id: string; status: string; parent_run_id: string; parent_task_index: number }>(
    `select run_id, status, parent_run_id, parent_task_index from pgflow.runs
      where parent_run_id = any($1::uuid[]) and flow_slug = $2`,
    [runIds, SUBFLOW_CHILD_SLUG],
  );
  // One child per parent task, each completed once (the engine's completion rows, by trigger).
  expect(children).toHaveLength(RUNS * ITEMS.length);
  expect(new Set(children.map((c) => `${c.parent_run_id}/${c.parent_task_index}`)).size).toBe(RUNS * ITEMS.length);
  expect(children.every((child) => child.status === 'completed')).toBe(true);
  const [completions] = await db.query<{ runs: number; max_per_run: number }>(
    `select count(distinct run_id)::int as runs, coalesce(max(n), 0)::int as max_per_run
       from (select run_id, count(*) over (partition by run_id) as n from public.reliability_completions
              where kind = 'run' and run_id = any($1::uuid[])) c`,
    [children.map((child) => child.run_id)],
  );
  expect(completions).toEqual({ runs: RUNS * ITEMS.length, max_per_run: 1 });
  const parentTasks = await db.query<{ status: string; attempts_count: number; requeued_count: number }>(
    `select t.status, t.attempts_count, t.requeued_count from pgflow.step_tasks t
       join unnest($1::uuid[], $2::int[]) as w(run_id, task_index) on w.run_id = t.run_id and w.task_index = t.task_index
      where t.step_slug = 'delegate'`,
    [waiting.map((task) => task.run_id), waiting.map((task) => task.task_index)],
  );
  expect(parentTasks).toHaveLength(waiting.length);
  expect(parentTasks).toEqual(waiting.map(() => ({ status: 'completed', attempts_count: 1, requeued_count: 0 })));
  expect(
    (
      await db.query(`select 1 from pgflow.step_tasks where run_id = any($1::uuid[]) and status <> 'completed'`, [
        runIds,
      ])
    ).length,
  ).toBe(0);
  expect(rescuer.logs(['error', 'fatal'])).toEqual([]);
}, 180_000);
