/**
 * Flow and step concurrency limits count the tasks that occupy a worker. A subflow step's task that
 * waits for its child run is started but holds no worker (pgflow._start_child_run), so it leaves its
 * slot to the next task, and starting the child wakes the workers of a limited flow: both claim
 * paths (pgflow._claim_tasks, and pgmq.read + pgflow.start_tasks as pgflow's worker does) see it.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { claim } from './support/concurrency.ts';
import { completeTask, defineFlow, pollOne, pollTasks, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;
/** A parent `prepare` → `delegate` (a map of subflow tasks), its flow limited to 1 task at once. */
async function limitedParent(): Promise<{ parent: string; child: string; runId: string }> {
  const n = ++flows;
  const parent = `limited_parent_${n}`;
  const child = `limited_child_${n}`;
  await defineFlow(db, child, [{ slug: 'only' }]);
  await defineFlow(db, parent, [{ slug: 'prepare' }, { slug: 'delegate', deps: ['prepare'], type: 'map' }]);
  await db.query('update pgflow.flows set opt_concurrency = 1 where flow_slug = $1', [parent]);
  const run = await startRun(db, parent, null);
  await pollOne(db, parent, 'prepare');
  await completeTask(db, run.run_id, 'prepare', 0, ['a', 'b']);
  return { parent, child, runId: run.run_id };
}

async function startChild(runId: string, taskIndex: number, child: string): Promise<void> {
  const [row] = await db.query<{ result: { started: boolean } }>(
    `select pgflow._start_child_run($1::uuid, 'delegate', $2, 1, $3, '{}'::jsonb) as result`,
    [runId, taskIndex, child],
  );
  expect(row?.result.started).toBe(true);
}

describe('concurrency limits and tasks waiting for a child run', () => {
  it('pgmq.read + start_tasks: a task waiting for its child leaves its slot to the next task', async () => {
    const { parent, child, runId } = await limitedParent();
    const first = await pollTasks(db, parent, { qty: 10 });
    expect(first.map((t) => t.task_index)).toEqual([0]);
    expect(await pollTasks(db, parent, { qty: 10 })).toEqual([]);

    await startChild(runId, 0, child);
    const second = await pollTasks(db, parent, { qty: 10 });
    expect(second.map((t) => t.task_index)).toEqual([1]);
  });

  it('_claim_tasks: the same, and starting the child wakes the workers of the limited flow', async () => {
    const { parent, child, runId } = await limitedParent();
    expect((await claim(db, parent)).map((t) => t.task_index)).toEqual([0]);
    expect(await claim(db, parent)).toEqual([]);

    const listener = await db.connect('concurrency-subflows-listener');
    const wakeUps: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === 'pgflow:work') wakeUps.push(n.payload ?? '');
    });
    await listener.query('listen "pgflow:work"');
    await startChild(runId, 0, child);
    await waitFor(() => wakeUps.includes(parent), { description: `a pgflow:work wake-up for ${parent}` });
    expect((await claim(db, parent)).map((t) => t.task_index)).toEqual([1]);
  });
});
