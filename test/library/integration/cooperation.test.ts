/**
 * Two Nest applications on one database: an API-only application (no worker) starts runs and waits
 * for them, a worker-only application executes them. Waiting works through database notifications
 * from a process that runs no worker.
 */
import { Inject } from '@nestjs/common';
import { Flow, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

const ROLE = 'COOPERATION_ROLE';

/** Every handler call of this file, tagged with the application that made it. */
const executions: Array<{ role: string; runId: string; stepSlug: string }> = [];

@Flow({ slug: 'coop_report', maxAttempts: 1 })
class ReportFlow {
  constructor(@Inject(ROLE) private readonly role: string) {}

  @Step()
  collect(input: { customer: string }, ctx: StepContext) {
    executions.push({ role: this.role, runId: ctx.runId, stepSlug: ctx.stepSlug });
    return { customer: input.customer, lines: input.customer.length };
  }

  @Step({ dependsOn: ['collect'] })
  render(deps: StepInput<ReportFlow, 'collect'>, ctx: StepContext) {
    executions.push({ role: this.role, runId: ctx.runId, stepSlug: ctx.stepSlug });
    return `${deps.collect.customer}: ${deps.collect.lines} lines (rendered by ${this.role})`;
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApi() {
  return apps.start({
    url: db.url,
    providers: [ReportFlow, { provide: ROLE, useValue: 'api' }],
    pgflow: { worker: { enabled: false } },
  });
}

function startWorker() {
  return apps.start({ url: db.url, providers: [ReportFlow, { provide: ROLE, useValue: 'worker' }] });
}

/** Workers registered since `since` (the database's clock), stopped or not. */
async function workersSince(since: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.workers where started_at >= $1', [
    since,
  ]);
  return row?.n ?? 0;
}

async function databaseNow(): Promise<Date> {
  const [row] = await db.query<{ now: Date }>('select now() as now');
  return row?.now as Date;
}

beforeEach(() => {
  executions.length = 0;
});

describe('an API-only application and a worker application on one database', () => {
  it('the API application starts runs and waits for them while the worker application executes them', async () => {
    const api = await startApi();
    await startWorker();

    const runs = await Promise.all(
      ['ada', 'grace', 'linus'].map((customer) => api.client.start(ReportFlow, { customer })),
    );
    const done = await Promise.all(runs.map((run) => run.wait({ timeoutMs: 10_000 })));

    expect(done.map((run) => run.output)).toEqual([
      { render: 'ada: 3 lines (rendered by worker)' },
      { render: 'grace: 5 lines (rendered by worker)' },
      { render: 'linus: 5 lines (rendered by worker)' },
    ]);
    expect(executions.filter((execution) => execution.role === 'api')).toEqual([]);
    expect(executions).toHaveLength(6);
  });

  it('the API application registers no worker and executes nothing', async () => {
    const since = await databaseNow();
    const api = await startApi();
    expect(await workersSince(since)).toBe(0);

    const run = await api.client.start('coop_report', { customer: 'nobody' });
    await expect(run.wait({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'PGFLOW_WAIT_TIMEOUT' });
    expect(executions).toEqual([]);
    expect((await api.client.getRun(run.runId)).status).toBe('started');
  });

  it('runs started while no worker is up wait in the queue, and complete once a worker application boots', async () => {
    const api = await startApi();
    const run = await api.client.start(ReportFlow, { customer: 'early' });
    const waiting = run.wait({ timeoutMs: 15_000 });

    await startWorker();
    await expect(waiting).resolves.toMatchObject({ output: { render: 'early: 5 lines (rendered by worker)' } });
  });

  it('the worker application sees the runs the API application started, and the API sees their end', async () => {
    const api = await startApi();
    const worker = await startWorker();

    const run = await api.client.start(ReportFlow, { customer: 'shared' });
    const fromWorker = await worker.client.wait(run.runId, { timeoutMs: 10_000 });
    const fromApi = await api.client.wait(run.runId, { timeoutMs: 10_000 });

    expect(fromApi).toEqual(fromWorker);
    expect(await api.client.getRun(run.runId)).toMatchObject({ status: 'completed', completedAt: expect.any(Date) });
  });

  it('two worker applications share the work, and no task runs twice', async () => {
    const api = await startApi();
    await startWorker();
    await apps.start({ url: db.url, providers: [ReportFlow, { provide: ROLE, useValue: 'worker two' }] });

    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api.client.start(ReportFlow, { customer: `c${i}` })),
    );
    await Promise.all(runs.map((run) => run.wait({ timeoutMs: 15_000 })));

    const keys = executions.map((execution) => `${execution.runId}/${execution.stepSlug}`);
    expect(keys).toHaveLength(80);
    expect(new Set(keys).size).toBe(80);
    expect(new Set(executions.map((execution) => execution.role))).toEqual(new Set(['worker', 'worker two']));
  });

  it('an API application without the flow class starts it by slug, as the database knows it', async () => {
    await startWorker();
    const api = await apps.start({ url: db.url, pgflow: { worker: { enabled: false } } });

    const run = await api.client.start('coop_report', { customer: 'by slug' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      flowSlug: 'coop_report',
      output: { render: 'by slug: 7 lines (rendered by worker)' },
    });
  });

  it('a second API application waits on a run the first one started (client.wait by id)', async () => {
    const first = await startApi();
    const second = await startApi();
    await startWorker();

    const run = await first.client.start(ReportFlow, { customer: 'elsewhere' });
    await expect(second.client.wait(run.runId, { timeoutMs: 10_000 })).resolves.toMatchObject({
      runId: run.runId,
      status: 'completed',
    });
  });
});
