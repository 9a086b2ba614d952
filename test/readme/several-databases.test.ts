/**
 * The README's "Several databases" module, booted as written against two databases (it reads
 * USERS_DATABASE_URL and REPORTS_DATABASE_URL when it is imported, so the test sets them first; its
 * DataSources apply the library's migrations to the empty databases).
 */
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

let users: TestDatabase;
let reports: TestDatabase;
let app: INestApplication | undefined;
const saved = { users: process.env.USERS_DATABASE_URL, reports: process.env.REPORTS_DATABASE_URL };

beforeAll(async () => {
  [users, reports] = await Promise.all([
    createTestDatabase({ migrated: false }),
    createTestDatabase({ migrated: false }),
  ]);
});

afterAll(async () => {
  await app?.close();
  for (const [name, value] of [
    ['USERS_DATABASE_URL', saved.users],
    ['REPORTS_DATABASE_URL', saved.reports],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

it('starts each flow in its own database through one FlowClient, and a slug through a registration client', async () => {
  process.env.USERS_DATABASE_URL = users.url;
  process.env.REPORTS_DATABASE_URL = reports.url;
  const { SeveralDatabasesModule, Backoffice } = await import('./fixtures/several-databases.module.ts');
  app = await NestFactory.create(SeveralDatabasesModule, { logger: false });
  await app.init();
  const backoffice = app.get(Backoffice);

  await expect(backoffice.welcome('ada', 'ada@example.com')).resolves.toMatchObject({ status: 'completed' });
  await expect(backoffice.closeMonth('2026-11')).resolves.toMatchObject({
    output: { summary: { invoices: 2, total: 300 } },
  });
  expect(await users.query('select flow_slug from pgflow.runs')).toEqual([{ flow_slug: 'welcome_user' }]);
  expect(await reports.query('select flow_slug from pgflow.runs')).toEqual([{ flow_slug: 'monthly_report' }]);

  // A flow of the reports database that the application has no class for (compiled by other means).
  await reports.query(`select pgflow.create_flow('legacy_export')`);
  await reports.query(`select pgflow.add_step('legacy_export', 'dump')`);
  const exported = await backoffice.startLegacyExport(2025);
  expect(await reports.query('select flow_slug, status from pgflow.runs where run_id = $1', [exported.runId])).toEqual([
    { flow_slug: 'legacy_export', status: 'started' },
  ]);
});
