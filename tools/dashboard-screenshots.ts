/**
 * `npm run dashboard:screenshots`: the pictures of the README's Dashboard section. Boots the example
 * application (its flows, worker and the dashboard at /pgflow) on a fresh database of the server of
 * DATABASE_URL (else an embedded one), starts a few runs and waits for them, then saves the flows,
 * runs and run pages as seen by Debian's headless Chromium under docs/dashboard/.
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { AppModule } from '../apps/example/src/app.module.ts';
import { projectRoot, startLocalPostgres, withDatabase } from './local-postgres.ts';

const DATABASE = 'pgflow_dashboard_screenshots';
const TOKEN = 'screenshots-token';
const CHROMIUM = process.env.PGFLOW_CHROMIUM ?? '/usr/bin/chromium';

async function post(base: string, body: unknown): Promise<string> {
  const response = await fetch(`${base}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`POST /runs answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { runId: string }).runId;
}

async function ended(base: string, runId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const run = (await (await fetch(`${base}/runs/${runId}`)).json()) as { status: string };
    if (run.status !== 'started') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Run ${runId} did not end within a minute.`);
}

async function main(): Promise<void> {
  const server = await startLocalPostgres({ name: 'dashboard-screenshots' });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`drop database if exists ${DATABASE} with (force)`);
  await admin.query(`create database ${DATABASE}`);
  await admin.end();
  const app = await NestFactory.create(
    AppModule.forRoot({ databaseUrl: withDatabase(server.url, DATABASE), dashboardToken: TOKEN }),
    { logger: false },
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
  });
  try {
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const runs = [
      await post(base, { flow: 'analyze_website', input: { url: 'https://example.com/docs' } }),
      await post(base, { flow: 'analyze_website', input: { url: 'https://example.com/blog' } }),
      await post(base, { flow: 'check_links', input: ['https://example.com/docs', 'https://example.com/nowhere'] }),
      // A run that fails (the example serves no such page): the runs page shows every status colour.
      await post(base, { flow: 'analyze_website', input: { url: 'https://example.com/nowhere' } }),
    ];
    for (const runId of runs) await ended(base, runId);

    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
      viewport: { width: 1200, height: 800 },
    });
    const page = await context.newPage();
    const folder = join(projectRoot(), 'docs', 'dashboard');
    mkdirSync(folder, { recursive: true });
    for (const [name, path] of [
      ['flows', '/pgflow'],
      ['runs', '/pgflow/runs'],
      ['run', `/pgflow/runs/${runs[0]}`],
    ] as const) {
      await page.goto(`${base}${path}`);
      await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true });
      console.log(`docs/dashboard/${name}.png`);
    }
  } finally {
    await browser.close();
    await app.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
