/**
 * Flows split across two PostgreSQL servers, each with an engine of its own: one Nest application
 * registers PgflowModule once per TypeORM DataSource ('billing' on the harness's server, 'reports' on
 * a second server started for this file), each with its flows. Both databases are migrated through
 * their DataSources; each registration compiles and executes only its flows, in its database; the
 * one FlowClient starts, waits for, reads and watches runs of both.
 */
import { Injectable } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Flow,
  FlowClient,
  type FlowEvent,
  FlowNotFoundError,
  getPgflowWorkerToken,
  InjectFlowClient,
  InvalidOptionsError,
  type MapStepContext,
  OnFlowEvent,
  PgflowModule,
  type PgflowWorker,
  pgflowMigrations,
  type RunEvent,
  RunNotFoundError,
  Step,
  type StepContext,
  type StepInput,
} from 'nestjs-pgflow';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { type LocalPostgres, startLocalPostgres, withDatabase } from '../../../tools/local-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { FAST_WORKER, type TestApp, useApps } from '../fixtures/pgflow-app.ts';

/** Which flow's handler ran, for which run: what each registration's worker executed. */
const executed: Array<{ flow: string; runId: string }> = [];

@Flow({ slug: 'md_invoice', maxAttempts: 1 })
class InvoiceFlow {
  @Step()
  total(input: { lines: number[] }, ctx: StepContext) {
    executed.push({ flow: ctx.flowSlug, runId: ctx.runId });
    return input.lines.reduce((sum, line) => sum + line, 0);
  }

  @Step({ dependsOn: ['total'] })
  invoice(deps: StepInput<InvoiceFlow, 'total'>) {
    return { amount: deps.total };
  }
}

@Flow({ slug: 'md_report', maxAttempts: 1 })
class ReportFlow {
  @Step({ map: true })
  page(page: string, ctx: MapStepContext) {
    executed.push({ flow: ctx.flowSlug, runId: ctx.runId });
    return page.length;
  }
}

/** Run events of every flow: each registration listens to its own flows, on its own database. */
@Injectable()
class Completions {
  readonly events: FlowEvent[] = [];

  @OnFlowEvent('run:completed')
  completed(event: FlowEvent) {
    this.events.push(event);
  }
}

/** A service of the application using both kinds of client. */
@Injectable()
class Clients {
  constructor(
    readonly all: FlowClient,
    @InjectFlowClient('billing') readonly billing: FlowClient,
    @InjectFlowClient('reports') readonly reports: FlowClient,
  ) {}
}

const apps = useApps();
let second: LocalPostgres;
let billingDb: TestDatabase;
let reportsUrl: string;
let reportsPool: pg.Pool;

beforeAll(async () => {
  // A second, real PostgreSQL server: embedded even when the harness uses DATABASE_URL (env: {}).
  second = await startLocalPostgres({ name: 'second-server', unsafeFast: true, env: {} });
  const admin = new pg.Client({ connectionString: second.url });
  await admin.connect();
  await admin.query('create database reports');
  await admin.end();
  reportsUrl = withDatabase(second.url, 'reports');
  reportsPool = new pg.Pool({ connectionString: reportsUrl, max: 2 });
  // pool.end() resolves before its clients' sockets close: the server's shutdown right after may reach
  // one of them, which the pool reports here (instead of as an uncaught error).
  reportsPool.on('error', () => {});
  // Empty: the application's two DataSources apply the library's migrations, as a user's would.
  billingDb = await createTestDatabase({ migrated: false });
}, 120_000);

afterAll(async () => {
  await reportsPool?.end();
  await second?.stop();
});

function dataSources() {
  const options = { type: 'postgres', autoLoadEntities: true, migrations: [...pgflowMigrations], migrationsRun: true };
  return [
    TypeOrmModule.forRoot({ ...options, type: 'postgres', name: 'billing', url: billingDb.url }),
    TypeOrmModule.forRoot({ ...options, type: 'postgres', name: 'reports', url: reportsUrl }),
  ];
}

function startApp(): Promise<TestApp> {
  return apps.start({
    url: billingDb.url,
    typeOrm: dataSources(),
    pgflowModule: PgflowModule.forRoot({ dataSource: 'billing', flows: [InvoiceFlow], worker: FAST_WORKER }),
    imports: [PgflowModule.forRoot({ dataSource: 'reports', flows: [ReportFlow], worker: FAST_WORKER })],
    providers: [InvoiceFlow, ReportFlow, Clients, Completions],
  });
}

async function reportsQuery<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  return (await reportsPool.query<Row>(text, values)).rows;
}

describe('PgflowModule registered once per database, on two servers', () => {
  it('runs each flow in its own database, executed by its registration, and waits through one FlowClient', async () => {
    const { app } = await startApp();
    const clients = app.get(Clients);
    expect(clients.all).toBe(app.get(FlowClient));

    const invoice = await clients.all.start(InvoiceFlow, { lines: [10, 20, 12] });
    const report = await clients.all.start(ReportFlow, ['cover', 'summary', 'appendix']);
    await expect(invoice.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({
      status: 'completed',
      output: { invoice: { amount: 42 } },
    });
    await expect(report.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({
      status: 'completed',
      output: { page: [5, 7, 8] },
    });

    // Each run, its flow and its workers are in one database only: the servers are two.
    expect(await billingDb.query('select run_id, flow_slug from pgflow.runs')).toEqual([
      { run_id: invoice.runId, flow_slug: 'md_invoice' },
    ]);
    expect(await reportsQuery('select run_id, flow_slug from pgflow.runs')).toEqual([
      { run_id: report.runId, flow_slug: 'md_report' },
    ]);
    expect(await billingDb.query('select flow_slug from pgflow.flows')).toEqual([{ flow_slug: 'md_invoice' }]);
    expect(await reportsQuery('select flow_slug from pgflow.flows')).toEqual([{ flow_slug: 'md_report' }]);
    const [billingPort, reportsPort] = await Promise.all([
      billingDb.query<{ port: number }>('select inet_server_port() as port'),
      reportsQuery<{ port: number }>('select inet_server_port() as port'),
    ]);
    expect(billingPort[0]?.port).not.toBe(reportsPort[0]?.port);

    // Every task was executed by a worker registered in the task's own database, serving its flow.
    const executedBy = `select t.flow_slug, w.queue_name from pgflow.step_tasks t
                          left join pgflow.workers w on w.worker_id = t.last_worker_id`;
    type ExecutedBy = { flow_slug: string; queue_name: string | null };
    for (const tasks of [await billingDb.query<ExecutedBy>(executedBy), await reportsQuery<ExecutedBy>(executedBy)]) {
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) expect(task.queue_name).toBe(task.flow_slug);
    }
    expect(executed.filter((e) => e.runId === invoice.runId).map((e) => e.flow)).toEqual(['md_invoice']);
    expect(executed.filter((e) => e.runId === report.runId).map((e) => e.flow)).toEqual([
      'md_report',
      'md_report',
      'md_report',
    ]);
    const completions = app.get(Completions).events;
    await waitFor(() => completions.length === 2, { description: 'run:completed of both runs, one each' });
    expect(completions.map((event) => [event.flow_slug, event.run_id]).sort()).toEqual(
      [
        ['md_invoice', invoice.runId],
        ['md_report', report.runId],
      ].sort(),
    );
    expect(app.get<PgflowWorker>(getPgflowWorkerToken('billing')).state).toBe('running');
    expect(app.get<PgflowWorker>(getPgflowWorkerToken('reports')).state).toBe('running');
  });

  it('finds the database of a run from its id alone: wait, getRun and watch', async () => {
    const { app } = await startApp();
    const { all, reports } = app.get(Clients);
    const [first, ...others] = await all.startMany(InvoiceFlow, [{ lines: [1] }, { lines: [2, 3] }]);
    // Started through the registration's own client, by slug; read back through the routing one.
    const report = await reports.start('md_report', ['a', 'bb']);

    await expect(all.wait(report.runId, { timeoutMs: 15_000 })).resolves.toMatchObject({ output: { page: [1, 2] } });
    await expect(all.wait(first?.runId as string, { timeoutMs: 15_000 })).resolves.toMatchObject({
      output: { invoice: { amount: 1 } },
    });
    await expect(others[0]?.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({ output: { invoice: { amount: 5 } } });
    expect(await all.getRun(report.runId)).toMatchObject({ flowSlug: 'md_report', status: 'completed' });
    expect(await all.getRun(first?.runId as string)).toMatchObject({ flowSlug: 'md_invoice', status: 'completed' });

    const events: RunEvent[] = [];
    const stop = await all.watch(report.runId, 'run:completed', (event) => events.push(event));
    await waitFor(() => events.length === 1, { description: 'the replayed run:completed event' });
    stop();
    expect(events[0]).toMatchObject({ run_id: report.runId, replayed: true });
  });

  it("keeps a registration's own client to its database, and refuses what would cross databases", async () => {
    const { app } = await startApp();
    const { all, billing, reports } = app.get(Clients);
    const report = await all.start(ReportFlow, ['x']);
    await report.wait({ timeoutMs: 15_000 });

    await expect(billing.getRun(report.runId)).rejects.toThrow(RunNotFoundError);
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(all.wait(missing)).rejects.toThrow(new RunNotFoundError(missing, ['billing', 'reports']).message);
    // A slug no registration lists: no database is guessed.
    const unknown = await all.start('md_nowhere', {}).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(FlowNotFoundError);
    expect((unknown as Error).message).toMatch(/several databases \('billing', 'reports'\).*@InjectFlowClient/);
    // The billing client sends any slug to its own database, whose engine does not know this one.
    await expect(billing.start('md_report', ['x'])).rejects.toThrow(/registration on 'billing' has no flow/);
    await expect(reports.start('md_report', ['y'])).resolves.toMatchObject({ flowSlug: 'md_report' });

    // A transaction of the billing database cannot hold a run of a reports flow.
    const billingSource = app.get<DataSource>('billingDataSource');
    const crossed = await billingSource
      .transaction((manager) => all.start(ReportFlow, ['z'], { manager }))
      .catch((error: unknown) => error);
    expect(crossed).toBeInstanceOf(InvalidOptionsError);
    expect((crossed as Error).message).toMatch(
      /DataSource 'reports', where the runs of flow 'md_report' live.*'billing'/,
    );
    const inBilling = await billingSource.transaction((manager) => all.start(InvoiceFlow, { lines: [4] }, { manager }));
    await expect(inBilling.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({ output: { invoice: { amount: 4 } } });
    expect(
      await reportsQuery('select count(*)::int as n from pgflow.runs where flow_slug = $1', ['md_invoice']),
    ).toEqual([{ n: 0 }]);
  });
});
