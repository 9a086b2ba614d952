/**
 * The database server restarted (fast shutdown, then started again on the same port) while runs
 * are in flight: the worker processes and the FlowClient of an API-only application reconnect by
 * themselves, every run completes exactly once, and every wait() resolves. This file runs its own
 * PostgreSQL server (the shared one cannot be restarted under the other test files).
 */
import pg from 'pg';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { ExecutionLog, expectedFanoutOutput, FanoutFlow, HANDLER_BEHAVIOUR } from '../processes/reliability-flows.ts';
import { waitFor } from '../support/wait-for.ts';
import { auditRuns, instrument, wrongFanoutOutputs } from './support/audit.ts';
import { recordFigure } from './support/figures.ts';
import { type RestartablePostgres, startRestartablePostgres } from './support/restartable-postgres.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const workers = useWorkerProcesses();
const apps = useApps();
let server: RestartablePostgres | undefined;
let pool: pg.Pool | undefined;

/** The test's own queries, on a pool that survives the restart (it drops the clients that died). */
const db = {
  query: async <Row extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<Row[]> =>
    (await (pool as pg.Pool).query<Row>(text, params)).rows,
};

beforeAll(async () => {
  server = await startRestartablePostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 2, application_name: 'pgflow test' });
  pool.on('error', () => {});
  await instrument(db);
}, 120_000);

afterAll(async () => {
  await apps.closeAll();
  await workers.killAll();
  await pool?.end();
  await server?.destroy();
});

describe('the database server restarted while runs are in flight', () => {
  it('workers and FlowClient reconnect by themselves: runs complete once and wait() resolves', async () => {
    const url = (server as RestartablePostgres).url;
    const started = await Promise.all(
      ['one', 'two'].map((label) => workers.start({ url, label, delayMs: [50, 150], worker: { maxConcurrent: 5 } })),
    );
    const api = await apps.start({
      url,
      providers: [
        FanoutFlow,
        ExecutionLog,
        { provide: HANDLER_BEHAVIOUR, useValue: { worker: 'api', delayMs: [0, 0] } },
      ],
      pgflow: { worker: { enabled: false } },
    });
    const inputs = Array.from({ length: 30 }, (_, n) => ({ items: [n, n + 1, n + 2, n + 3] }));
    const handles = await Promise.all(inputs.map((input) => api.client.start(FanoutFlow, input)));
    const runIds = handles.map((handle) => handle.runId);
    const waits = handles.map((handle) => handle.wait({ timeoutMs: 120_000 }));
    await waitFor(
      async () => {
        const [row] = await db.query<{ n: number }>(
          "select count(*)::int as n from pgflow.runs where run_id = any($1::uuid[]) and status = 'completed'",
          [runIds],
        );
        return (row?.n ?? 0) >= 5;
      },
      { timeoutMs: 60_000, description: '5 runs completed' },
    );

    const stoppedAt = Date.now();
    await server?.stop();
    // Down until both workers' poll loops met the outage (they log it as an error; the listener only warns).
    await waitFor(() => started.every((worker) => worker.logs(['error'], stoppedAt).length > 0), {
      timeoutMs: 20_000,
      description: 'both workers to log that the database is unreachable',
    });
    await server?.start();
    const restartedAt = Date.now();

    const done = await Promise.all(waits);
    const allDoneAt = Date.now();
    expect(done.map((run) => run.output)).toEqual(inputs.map((input) => expectedFanoutOutput(input.items)));
    expect(await wrongFanoutOutputs(db, runIds)).toEqual([]);
    expect(await auditRuns(db, runIds)).toMatchObject({
      runs: { completed: 30 },
      tasks: { completed: 30 * 6 },
      completions: { task: 30 * 6, step: 30 * 3, run: 30, maxPerKey: 1 },
      completedWithoutExecution: 0,
    });

    const [first] = await db.query<{ at: Date }>(
      'select min(completed_at) as at from pgflow.step_tasks where completed_at > to_timestamp($1::double precision / 1000)',
      [restartedAt],
    );
    recordFigure('server restart → first task completed after it', (Number(first?.at) - restartedAt) / 1000, 's', {
      outageSeconds: (restartedAt - stoppedAt) / 1000,
      restartToAllRunsDoneSeconds: (allDoneAt - restartedAt) / 1000,
    });
  }, 180_000);
});
