/**
 * The example application's per-tenant limit, end to end: tenant_report runs at most 2 runs per
 * tenant at once. Started through POST /runs on an API-only application (no worker: nothing ends
 * meanwhile), a tenant's third run waits for a slot while another tenant's run does not; once a
 * worker serves them, every run completes, the waiting one after a slot of its tenant was given back.
 */
import type { RunSnapshot } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { finishedRun, runSnapshot, TEST_WORKER, useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

async function tenantReportRuns(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from pgflow.runs where flow_slug = 'tenant_report'`,
  );
  return row?.n ?? 0;
}

it('tenant_report: a tenant’s third run waits for a slot, another tenant’s does not, and all complete', async () => {
  const api = await startServer({ worker: { ...TEST_WORKER, enabled: false } });
  const start = async (tenant: string): Promise<string> => {
    const { status, body } = await api.post<{ runId: string }>('/runs', {
      flow: 'tenant_report',
      input: { tenant, urls: ['https://example.com/docs', 'https://example.com/gone'] },
    });
    expect(status).toBe(201);
    return body.runId;
  };
  const acme = [await start('acme'), await start('acme'), await start('acme')];
  const globex = await start('globex');

  const waiting = async (runId: string) => {
    const run = await runSnapshot(api, runId);
    return { status: run.status, key: run.concurrencyKey, waitingForSlot: run.waitingForSlot };
  };
  expect(await Promise.all([...acme, globex].map(waiting))).toEqual([
    { status: 'started', key: 'acme', waitingForSlot: false },
    { status: 'started', key: 'acme', waitingForSlot: false },
    { status: 'started', key: 'acme', waitingForSlot: true },
    { status: 'started', key: 'globex', waitingForSlot: false },
  ]);
  const states = await db.query<{ run_id: string; concurrency_state: string }>(
    'select run_id, concurrency_state from pgflow.runs where run_id = any($1::uuid[])',
    [[...acme, globex]],
  );
  expect(Object.fromEntries(states.map((row) => [row.run_id, row.concurrency_state]))).toEqual({
    [acme[0] as string]: 'admitted',
    [acme[1] as string]: 'admitted',
    [acme[2] as string]: 'waiting',
    [globex]: 'admitted',
  });

  const worker = await startServer();
  const runs: RunSnapshot[] = [];
  for (const runId of [...acme, globex]) runs.push(await finishedRun(worker, runId, 60_000));
  expect(runs.map((run) => [run.status, run.output])).toEqual([
    ...['acme', 'acme', 'acme', 'globex'].map((tenant) => [
      'completed',
      { report: { tenant, checked: 2, ok: 1, broken: ['https://example.com/gone'] } },
    ]),
  ]);

  // The waiting run's first task started only after one of its tenant's first two runs had ended.
  const [order] = await db.query<{ firstEnd: Date; thirdStart: Date }>(
    `select (select min(completed_at) from pgflow.runs where run_id = any($1::uuid[])) as "firstEnd",
            (select min(started_at) from pgflow.step_tasks where run_id = $2) as "thirdStart"`,
    [acme.slice(0, 2), acme[2]],
  );
  expect(order?.thirdStart.getTime()).toBeGreaterThanOrEqual(order?.firstEnd.getTime() as number);
});

it('400 for a tenant_report input without a tenant, saying what the input looks like, with no run started', async () => {
  const server = await startServer({ worker: { ...TEST_WORKER, enabled: false } });
  const before = await tenantReportRuns();
  const answer = await server.post<{ message: string }>('/runs', {
    flow: 'tenant_report',
    input: { urls: ['https://example.com/docs'] },
  });
  expect(answer.status).toBe(400);
  expect(answer.body.message).toContain('input.tenant is missing');
  expect(answer.body.message).toContain('"tenant": "acme"');
  expect(await tenantReportRuns()).toBe(before);
});
