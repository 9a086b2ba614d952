/** The README's other examples, run in one application against a real database. */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowClient, PgflowModule } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { BillingService } from './fixtures/billing.service.ts';
import { AccountService } from './fixtures/checkout.service.ts';
import { InvitationService } from './fixtures/invitations.service.ts';
import { SendInvoiceV1Flow, SendInvoiceV2Flow } from './fixtures/invoice.flows.ts';
import { ShipOrderFlow } from './fixtures/order.flow.ts';
import { reportWithProgress } from './fixtures/progress.ts';
import { MonthlyReportFlow, ResizeImagesFlow } from './fixtures/report.flow.ts';
import { RunsQuery } from './fixtures/runs.repository.ts';
import { Mailer, WelcomeUserFlow } from './fixtures/welcome.flow.ts';

const db = useTestDatabase();
let app: INestApplication;

beforeAll(async () => {
  await db.query('create table app_users (id text primary key, email text not null)');
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true }),
      PgflowModule.forRoot({ worker: { maxConcurrent: 10 } }),
    ],
    providers: [
      Mailer,
      WelcomeUserFlow,
      MonthlyReportFlow,
      ResizeImagesFlow,
      ShipOrderFlow,
      AccountService,
      InvitationService,
      RunsQuery,
      SendInvoiceV1Flow,
      SendInvoiceV2Flow,
      BillingService,
    ],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
});

afterAll(async () => {
  await app?.close();
});

it('starts the newest version under an alias; a version by class stays reachable', async () => {
  const { runId, version } = await app.get(BillingService).sendInvoice('c1', 12.5);
  expect(version).toBe('send_invoice_v2');
  await expect(app.get(FlowClient).wait(runId, { timeoutMs: 15_000 })).resolves.toMatchObject({
    output: { archive: { archivedBytes: 'Invoice for c1: 12.50'.length } },
  });
  expect(await app.get(FlowClient).getRun(runId)).toMatchObject({ flowSlug: 'send_invoice_v2', alias: 'send_invoice' });
  expect((await app.get(FlowClient).start(SendInvoiceV1Flow, { customerId: 'c2', amount: 1 })).flowSlug).toBe(
    'send_invoice_v1',
  );
});

it('maps over an array and fans the outputs back in, in order', async () => {
  const run = await app.get(FlowClient).start(MonthlyReportFlow, { month: '2026-11' });
  const done = await run.wait({ timeoutMs: 15_000 });
  expect(done.output).toEqual({ summary: { invoices: 2, total: 300 } });
});

it('runs a root map over the run input', async () => {
  const run = await app.get(FlowClient).start(ResizeImagesFlow, ['a.png', 'b.png']);
  const done = await run.wait({ timeoutMs: 15_000 });
  expect(done.output).toEqual({
    resize: [
      { url: 'a.png', thumbnail: 'a.png?w=128', index: 0 },
      { url: 'b.png', thumbnail: 'b.png?w=128', index: 1 },
    ],
  });
});

it('skips the conditional steps of a standard order to a blocked country', async () => {
  const flows = app.get(FlowClient);
  const run = await flows.start(ShipOrderFlow, { id: 'o1', total: 10, express: false, country: 'XX' });
  const done = await run.wait({ timeoutMs: 15_000 });
  expect(done.output).toEqual({ ship: { label: 'STANDARD-o1' } });
  const snapshot = await flows.getRun(run.runId);
  const skipped = snapshot.steps.filter((step) => step.status === 'skipped').map((step) => step.stepSlug);
  expect(skipped.sort()).toEqual(['customs', 'expressLabel']);
});

it('labels an express order', async () => {
  const run = await app.get(FlowClient).start(ShipOrderFlow, { id: 'o2', total: 10, express: true, country: 'FR' });
  const done = await run.wait({ timeoutMs: 15_000 });
  expect(done.output).toEqual({ customs: { declared: 10 }, ship: { label: 'EXPRESS-o2' } });
});

it('starts a run in the caller transaction: committed together, or not at all', async () => {
  const accounts = app.get(AccountService);
  const runId = await accounts.register('u1', 'u1@example.com');
  await expect(app.get(FlowClient).wait(runId, { timeoutMs: 15_000 })).resolves.toMatchObject({ status: 'completed' });

  await expect(accounts.register('u1', 'again@example.com')).rejects.toThrow(/duplicate key/);
  const [{ count }] = await db.query<{ count: string }>(
    `select count(*) from pgflow.runs where flow_slug = 'welcome_user'`,
  );
  expect(Number(count)).toBe(1);
});

it('starts many runs at once, in the order of the inputs', async () => {
  const users = [
    { userId: 'm1', email: 'm1@example.com' },
    { userId: 'm2', email: 'm2@example.com' },
  ];
  const runIds = await app.get(InvitationService).welcomeAll(users);
  const done = await Promise.all(runIds.map((runId) => app.get(FlowClient).wait(runId, { timeoutMs: 15_000 })));
  expect(done.map((run) => run.input)).toEqual(users);
});

it('prints the events of a run and returns its summary', async () => {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
  try {
    await expect(reportWithProgress(app.get(FlowClient), '2026-10')).resolves.toEqual({ invoices: 2, total: 300 });
  } finally {
    log.mockRestore();
  }
  expect(lines.some((line) => line.includes('run:completed'))).toBe(true);
  expect(lines.filter((line) => line.includes('step:completed invoice'))).toHaveLength(1);
});

it('reads runs with the entities and the client', async () => {
  const flows = app.get(FlowClient);
  const run = await flows.start(MonthlyReportFlow, { month: '2026-09' });
  await run.wait({ timeoutMs: 15_000 });
  const query = app.get(RunsQuery);
  await expect(query.failedToday('monthly_report')).resolves.toEqual([]);
  const details = await query.details(run.runId);
  expect(details.steps.map((step) => [step.stepSlug, step.status, step.tasks.length])).toEqual([
    ['accounts', 'completed', 1],
    ['invoice', 'completed', 2],
    ['summary', 'completed', 1],
  ]);
});
