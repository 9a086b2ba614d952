/**
 * Deploying a new version of a flow under its alias while the old one has runs in flight: a worker
 * process serves v1 (`@Flow({ slug: 'rel_order_v1', alias: 'rel_order' })`), 50 runs started by the
 * alias hold its handlers (they wait for a gate file), then another process deploys v2 under the
 * same alias. New starts by the alias go to v2 and complete there while v1's runs are still held;
 * once released, all 50 v1 runs complete on v1, executed by the v1 process only, none failed or
 * retried.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { ORDER_ALIAS, type OrderInput } from '../processes/versioned-flows.ts';
import { createTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument } from './support/audit.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const workers = useWorkerProcesses();
const apps = useApps();

const V1_RUNS = 50;
const V2_RUNS = 20;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pgflow-versioning-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

describe('a new version deployed under the alias while the old one has runs in flight', () => {
  it('new starts go to v2; all 50 v1 runs complete on v1, served by the v1 process; none fails', async () => {
    const db = await createTestDatabase();
    await instrument(db);
    const gateFile = join(folder, 'release-v1');
    await workers.start({ url: db.url, label: 'v1', flow: 'order_v1', gateFile, worker: { maxConcurrent: V1_RUNS } });

    // The caller: an application with no flow class and no worker, starting by the alias.
    const { client } = await apps.start({ url: db.url, pgflow: { worker: { enabled: false } } });
    const inputs = (from: number, count: number): OrderInput[] =>
      Array.from({ length: count }, (_, i) => ({ n: from + i }));
    const v1Runs = await client.startMany(ORDER_ALIAS, inputs(0, V1_RUNS));
    expect(new Set(v1Runs.map((run) => run.flowSlug))).toEqual(new Set(['rel_order_v1']));

    // Every v1 handler is running, held at the gate.
    await waitFor(
      async () => {
        const [row] = await db.query<{ n: number }>(
          `select count(*)::int as n from public.reliability_executions where worker = 'v1'`,
        );
        return row?.n === V1_RUNS;
      },
      { timeoutMs: 60_000, description: `${V1_RUNS} v1 handlers to be running` },
    );

    await workers.start({ url: db.url, label: 'v2', flow: 'order_v2' });
    const v2Runs = [
      await client.start(ORDER_ALIAS, { n: 1000 }),
      ...(await client.startMany(ORDER_ALIAS, inputs(1001, V2_RUNS - 1))),
    ];
    expect(new Set(v2Runs.map((run) => run.flowSlug))).toEqual(new Set(['rel_order_v2']));
    const v2Done = await Promise.all(v2Runs.map((run) => run.wait({ timeoutMs: 60_000 })));
    expect(v2Done.map((run) => run.output)).toEqual(
      v2Runs.map((_, i) => ({ confirm: { n: 1000 + i, version: 'v2' } })),
    );
    // v2 completed while v1's runs were all still in flight.
    const [held] = await db.query<{ n: number }>(
      `select count(*)::int as n from pgflow.runs where run_id = any($1::uuid[]) and status = 'started'`,
      [v1Runs.map((run) => run.runId)],
    );
    expect(held?.n).toBe(V1_RUNS);

    await writeFile(gateFile, 'go\n');
    const v1Done = await Promise.all(v1Runs.map((run) => run.wait({ timeoutMs: 60_000 })));
    expect(v1Done.map((run) => run.flowSlug)).toEqual(v1Runs.map(() => 'rel_order_v1'));
    expect(v1Done.map((run) => run.output)).toEqual(v1Runs.map((_, i) => ({ place: { n: i, version: 'v1' } })));
    expect(await client.getRun(v1Runs[0]?.runId as string)).toMatchObject({
      flowSlug: 'rel_order_v1',
      alias: ORDER_ALIAS,
      status: 'completed',
    });

    const audit = await auditRuns(
      db,
      v1Runs.map((run) => run.runId),
    );
    expect(audit).toMatchObject({
      runs: { completed: V1_RUNS },
      tasks: { completed: V1_RUNS },
      executions: V1_RUNS,
      reexecutedTasks: 0,
    });
    const workersOf = await db.query<{ flow: string; worker: string; n: number }>(
      `select r.flow_slug as flow, e.worker, count(*)::int as n
         from public.reliability_executions e join pgflow.runs r using (run_id)
        group by 1, 2 order by 1, 2`,
    );
    expect(workersOf).toEqual([
      { flow: 'rel_order_v1', worker: 'v1', n: V1_RUNS },
      { flow: 'rel_order_v2', worker: 'v2', n: 2 * V2_RUNS },
    ]);
    const [failed] = await db.query<{ runs: number; attempts: number }>(
      `select (select count(*)::int from pgflow.runs where status <> 'completed') as runs,
              (select count(*)::int from pgflow.step_tasks where attempts_count > 1 or status <> 'completed') as attempts`,
    );
    expect(failed).toEqual({ runs: 0, attempts: 0 });
  }, 180_000);
});
