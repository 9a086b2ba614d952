/**
 * Concurrency limits across worker processes (test/processes/concurrency-flows.ts), sampled from the
 * engine's tables every 50 ms while the runs go through: never more runs of a key in progress, or
 * started tasks of a flow or a step, than the limit, and the limit reached (the sampler sees it).
 * Each test also checks what the limit must not do: hold back another key, or another step.
 */
import {
  FLOW_LIMIT,
  FLOW_LIMIT_SLUG,
  PER_KEY_LIMIT,
  PER_KEY_SLUG,
  STEP_LIMIT,
  STEP_LIMIT_SLUG,
} from '../processes/concurrency-flows.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { auditRuns, instrument } from './support/audit.ts';
import { waitForRunsToEnd } from './support/fanout-runs.ts';
import { maxOf, sampleEvery } from './support/sampler.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();
const SAMPLE_MS = 50;

beforeAll(() => instrument(db));
beforeEach(() => db.query('truncate public.reliability_executions, public.reliability_completions'));

/** `count` worker processes serving the three flows, 10 tasks at once each, handlers taking `delayMs`. */
async function startWorkers(count: number, delayMs: readonly [number, number]): Promise<void> {
  const started = Array.from({ length: count }, () =>
    workers.spawn({ url: db.url, flow: 'concurrency', delayMs, worker: { maxConcurrent: 10 } }),
  );
  await Promise.all(started.map((worker) => worker.ready()));
}

/** Starts one run per input in one statement, in order (with a concurrency key each when given). */
async function startRuns(slug: string, inputs: readonly unknown[], keys?: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>(
    'select run_id from pgflow.start_flows(flow_slug => $1, inputs => $2::jsonb, concurrency_keys => $3::text[])',
    [slug, JSON.stringify(inputs), keys ?? null],
  );
  return rows.map((row) => row.run_id);
}

describe('concurrency limits across worker processes', () => {
  it('per key: 100 runs of tenant A never have more than 2 in progress, and tenant B’s 10 runs finish before A’s 20th', async () => {
    await startWorkers(2, [20, 50]);
    const sampler = sampleEvery<{ a: number; aTasks: number; b: number; waiting: number }>(
      db,
      SAMPLE_MS,
      `select count(*) filter (where r.concurrency_key = 'A' and r.status = 'started'
                                 and r.concurrency_state = 'admitted')::int as a,
              (select count(*) from pgflow.step_tasks t join pgflow.runs tr using (run_id)
                where t.flow_slug = $1 and t.status = 'started' and tr.concurrency_key = 'A')::int as "aTasks",
              count(*) filter (where r.concurrency_key = 'B' and r.status = 'started'
                                 and r.concurrency_state = 'admitted')::int as b,
              count(*) filter (where r.concurrency_state = 'waiting')::int as waiting
         from pgflow.runs r where r.flow_slug = $1`,
      [PER_KEY_SLUG],
    );
    const tenantA = Array.from({ length: 100 }, (_, n) => ({ tenant: 'A', n }));
    const tenantB = Array.from({ length: 10 }, (_, n) => ({ tenant: 'B', n }));
    const runIds = [
      ...(await startRuns(
        PER_KEY_SLUG,
        tenantA,
        tenantA.map((input) => input.tenant),
      )),
      ...(await startRuns(
        PER_KEY_SLUG,
        tenantB,
        tenantB.map((input) => input.tenant),
      )),
    ];

    expect(await waitForRunsToEnd(db, runIds, 120_000)).toBe(110);
    const samples = await sampler.stop();
    expect({ a: maxOf(samples, 'a'), aTasks: maxOf(samples, 'aTasks'), b: maxOf(samples, 'b') }).toEqual({
      a: PER_KEY_LIMIT,
      aTasks: PER_KEY_LIMIT,
      b: PER_KEY_LIMIT,
    });
    expect(maxOf(samples, 'waiting')).toBeGreaterThan(0);

    const [order] = await db.query<{ lastB: Date; twentiethA: Date }>(
      `select (select max(completed_at) from pgflow.runs where flow_slug = $1 and concurrency_key = 'B') as "lastB",
              (select completed_at from pgflow.runs where flow_slug = $1 and concurrency_key = 'A'
                order by completed_at offset 19 limit 1) as "twentiethA"`,
      [PER_KEY_SLUG],
    );
    expect(order?.lastB.getTime()).toBeLessThan(order?.twentiethA.getTime() as number);
    expect(await auditRuns(db, runIds)).toMatchObject({
      runs: { completed: 110 },
      completions: { run: 110, maxPerKey: 1 },
      completedWithoutExecution: 0,
    });
  }, 180_000);

  it('per flow: 3 processes run 30 tasks of 400 ms with never more than 3 started, taking at least 10 × 400 ms', async () => {
    await startWorkers(3, [400, 400]);
    const sampler = sampleEvery<{ started: number }>(
      db,
      SAMPLE_MS,
      `select count(*)::int as started from pgflow.step_tasks where flow_slug = $1 and status = 'started'`,
      [FLOW_LIMIT_SLUG],
    );
    const runIds = await startRuns(
      FLOW_LIMIT_SLUG,
      Array.from({ length: 30 }, (_, n) => ({ n })),
    );

    expect(await waitForRunsToEnd(db, runIds, 120_000)).toBe(30);
    const samples = await sampler.stop();
    expect(maxOf(samples, 'started')).toBe(FLOW_LIMIT);

    // Without the limit, 30 slots would run the 30 tasks in about 400 ms; with it, each of 3 slots
    // runs 10 tasks one after another.
    const [span] = await db.query<{ ms: number }>(
      `select extract(epoch from max(completed_at) - min(started_at)) * 1000 as ms
         from pgflow.step_tasks where flow_slug = $1`,
      [FLOW_LIMIT_SLUG],
    );
    expect(Number(span?.ms)).toBeGreaterThanOrEqual((30 * 400) / FLOW_LIMIT);
    expect(await auditRuns(db, runIds)).toMatchObject({ runs: { completed: 30 }, reexecutedTasks: 0 });
  }, 180_000);

  it('per step: a map step never has more than 2 tasks started, while its unlimited sibling runs all of its own', async () => {
    await startWorkers(3, [300, 300]);
    const sampler = sampleEvery<{ limited: number; free: number }>(
      db,
      SAMPLE_MS,
      `select count(*) filter (where step_slug = 'limited')::int as limited,
              count(*) filter (where step_slug = 'free')::int as free
         from pgflow.step_tasks where flow_slug = $1 and status = 'started'`,
      [STEP_LIMIT_SLUG],
    );
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const runIds = await startRuns(STEP_LIMIT_SLUG, [{ items }, { items }]);

    expect(await waitForRunsToEnd(db, runIds, 120_000)).toBe(2);
    const samples = await sampler.stop();
    expect(maxOf(samples, 'limited')).toBe(STEP_LIMIT);
    expect(maxOf(samples, 'free')).toBeGreaterThan(STEP_LIMIT);

    // 16 free tasks in about one handler's time; 16 limited ones two at a time (8 × 300 ms).
    const [order] = await db.query<{ freeDone: Date; lastLimitedStart: Date }>(
      `select max(completed_at) filter (where step_slug = 'free') as "freeDone",
              max(started_at) filter (where step_slug = 'limited') as "lastLimitedStart"
         from pgflow.step_tasks where flow_slug = $1`,
      [STEP_LIMIT_SLUG],
    );
    expect(order?.freeDone.getTime()).toBeLessThan(order?.lastLimitedStart.getTime() as number);
    const outputs = await db.query<{ output: unknown }>('select output from pgflow.runs where run_id = any($1)', [
      runIds,
    ]);
    expect(outputs.map((row) => row.output)).toEqual([{ total: 180 }, { total: 180 }]);
  }, 180_000);
});
