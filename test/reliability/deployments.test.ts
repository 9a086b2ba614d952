/**
 * Deployments (worker processes) starting at once on one database: the same flows are compiled
 * once (pgflow.ensure_flow_compiled holds an advisory lock); a deployment whose flow changed
 * refuses to start with FlowShapeMismatchError listing the differences, and changes nothing.
 */
import { FANOUT_SLUG } from '../processes/reliability-flows.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { instrument } from './support/audit.ts';
import { startFanoutRuns, waitForRunsToEnd } from './support/fanout-runs.ts';
import { useWorkerProcesses, type WorkerProcess } from './support/worker-processes.ts';

const workers = useWorkerProcesses();

/** A database with no flow yet: every test here is about the first compilation. */
async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  await instrument(db);
  return db;
}

async function stepSlugs(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ step_slug: string }>(
    'select step_slug from pgflow.steps where flow_slug = $1 order by step_index',
    [FANOUT_SLUG],
  );
  return rows.map((row) => row.step_slug).sort();
}

/** Waits until the process is ready or has exited; returns which. */
async function outcome(worker: WorkerProcess): Promise<'ready' | 'refused'> {
  return waitFor(
    () =>
      worker.lines.some((line) => line.type === 'ready')
        ? 'ready'
        : !worker.running && worker.lines.some((line) => line.type === 'boot-failed')
          ? 'refused'
          : undefined,
    { timeoutMs: 90_000, description: `deployment ${worker.label} to boot or refuse` },
  );
}

function refusal(worker: WorkerProcess) {
  return worker.lines.find((line) => line.type === 'boot-failed');
}

/** Lines the flow compiler logged: it logs once per flow it creates, and nothing when it verifies. */
function compilerLines(worker: WorkerProcess) {
  return worker.logs(['log', 'warn']).filter((line) => line.context === 'PgflowCompiler');
}

describe('deployments starting at once', () => {
  it('three deployments with the same flow, started at once, compile it once and all serve it', async () => {
    const db = await freshDatabase();
    const deployments = ['a', 'b', 'c'].map((label) => workers.spawn({ url: db.url, label }));
    await Promise.all(deployments.map((worker) => worker.ready()));

    expect(deployments.flatMap(compilerLines)).toHaveLength(1);
    expect(await db.query('select flow_slug from pgflow.flows')).toEqual([{ flow_slug: FANOUT_SLUG }]);
    expect(await stepSlugs(db)).toEqual(['split', 'square', 'total']);
    const runIds = await startFanoutRuns(db, 30, 3);
    expect(await waitForRunsToEnd(db, runIds, 90_000)).toBe(30);
  }, 240_000);

  it('a deployment with a changed flow refuses to start, listing the differences, and changes nothing', async () => {
    const db = await freshDatabase();
    await workers.start({ url: db.url, label: 'v1' });
    const v2 = workers.spawn({ url: db.url, label: 'v2', flow: 'changed' });

    expect(await v2.exited).toEqual({ code: 1, signal: null });
    expect(refusal(v2)).toMatchObject({
      name: 'FlowShapeMismatchError',
      message: expect.stringContaining(`Flow '${FANOUT_SLUG}' in the database differs from its definition in the code`),
    });
    expect(refusal(v2)?.message).toMatch(/"audit"|'audit'/);
    expect(await stepSlugs(db)).toEqual(['split', 'square', 'total']);
    expect(await db.query('select 1 from pgflow.workers where function_name like $1', [`%:${v2.pid}`])).toEqual([]);

    const runIds = await startFanoutRuns(db, 3, 2);
    expect(await waitForRunsToEnd(db, runIds, 90_000)).toBe(3);
  }, 240_000);

  it('two deployments with different flows started at once: one boots, the other refuses, the database has the first', async () => {
    const db = await freshDatabase();
    const old = workers.spawn({ url: db.url, label: 'old' });
    const changed = workers.spawn({ url: db.url, label: 'changed', flow: 'changed' });
    const outcomes = await Promise.all([outcome(old), outcome(changed)]);

    expect([...outcomes].sort()).toEqual(['ready', 'refused']);
    const [winner, loser] = outcomes[0] === 'ready' ? [old, changed] : [changed, old];
    expect(refusal(loser)).toMatchObject({ name: 'FlowShapeMismatchError' });
    expect(await stepSlugs(db)).toEqual(
      winner === old ? ['split', 'square', 'total'] : ['audit', 'split', 'square', 'total'],
    );
  }, 240_000);
});
