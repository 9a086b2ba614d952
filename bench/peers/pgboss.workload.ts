/**
 * pg-boss in a worker process of its own (see ../support/child.ts), on a fresh database: start()
 * (which installs its schema) and createQueue() run during the untimed setup.
 * - drain: `jobs` no-op jobs inserted beforehand by one insert() call; the clock runs from the
 *   work() calls until every job is completed. pg-boss's worker loop fetches a batch, runs the
 *   handler on it, completes the batch, then sleeps out the rest of its polling interval (0.5 s
 *   at least) before the next fetch, whatever it found: its throughput is
 *   workers × batchSize ÷ interval, so the best settings are large batches, several workers and
 *   the shortest interval (PGBOSS_BEST);
 * - latency: one job at a time (a random think time between): send() → the handler starts, and
 *   send() → the job's completion is committed (a NOTIFY from a trigger on its state becoming
 *   'completed'), at the shortest polling interval pg-boss allows (0.5 s; its default is 2 s).
 */
import type { ChildControl } from '../support/child.ts';
import { type LatencyRequest, sequentialLatency, until } from '../support/figures.ts';
import { Completions } from './completions.ts';

export interface PgBossSettings {
  /** work() calls on the queue: each is a worker loop of its own. */
  readonly workers: number;
  readonly batchSize: number;
  readonly pollingIntervalSeconds: number;
}

/**
 * The best settings found here for draining 20,000 no-op jobs, of those tried (work() loops ×
 * batchSize, polling 0.5 s; jobs/s on this machine, one run each, under load): 1 × 1,000: 2,100;
 * 4 × 1,000: 2,600; 10 × 500: 2,200; 1 × 5,000: 11,800; 2 × 5,000: 16,000–26,000;
 * 1 × 10,000: 23,000; 4 × 5,000: 32,600. Batches this large take the whole backlog in a few
 * fetches: pg-boss's rate grows with the batch, as long as jobs are waiting.
 */
export const PGBOSS_BEST: PgBossSettings = { workers: 4, batchSize: 5000, pollingIntervalSeconds: 0.5 };

export interface PgBossInput {
  readonly url: string;
  readonly jobs: number;
  readonly settings: PgBossSettings;
}

const QUEUE = 'noop';

async function startBoss(url: string, poolSize: number) {
  const { default: PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: url, max: poolSize });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  await boss.createQueue(QUEUE);
  return boss;
}

export async function pgbossDrain(
  input: PgBossInput,
  control: ChildControl,
): Promise<{ tasks: number; runs: number; seconds: number }> {
  const boss = await startBoss(input.url, Math.max(10, input.settings.workers + 2));
  const pg = await import('pg');
  const probe = new pg.default.Client({ connectionString: input.url, application_name: 'bench probe' });
  await probe.connect();
  try {
    await boss.insert(Array.from({ length: input.jobs }, (_, n) => ({ name: QUEUE, data: { n } })));
    let done = 0;
    await control.ready();
    const started = performance.now();
    for (let i = 0; i < input.settings.workers; i++) {
      await boss.work(
        QUEUE,
        { batchSize: input.settings.batchSize, pollingIntervalSeconds: input.settings.pollingIntervalSeconds },
        async (jobs) => {
          done += jobs.length;
        },
      );
    }
    await until(() => done >= input.jobs, `${input.jobs} pg-boss jobs (${done} so far)`);
    await until(
      async () => {
        const { rows } = await probe.query(
          `select exists (select 1 from pgboss.job where name = $1 and state <> 'completed') as left`,
          [QUEUE],
        );
        return rows[0]?.left === false;
      },
      'every pg-boss job to be completed',
      60_000,
      5,
    );
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.jobs, runs: input.jobs, seconds };
  } finally {
    await probe.end();
    await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
  }
}

export interface PgBossLatencyInput extends LatencyRequest {
  readonly url: string;
  readonly pollingIntervalSeconds: number;
}

export async function pgbossLatency(
  input: PgBossLatencyInput,
  control: ChildControl,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  const boss = await startBoss(input.url, 10);
  const completions = await Completions.listen(input.url, [
    `create function public.bench_job_done() returns trigger language plpgsql as $$
      begin perform pg_notify('bench_job_done', new.id::text); return new; end $$`,
    `create trigger bench_job_done after update of state on pgboss.job
      for each row when (new.state = 'completed' and old.state <> 'completed')
      execute function public.bench_job_done()`,
  ]);
  const handlerAt = new Map<string, number>();
  await boss.work(QUEUE, { pollingIntervalSeconds: input.pollingIntervalSeconds }, async ([job]) => {
    if (job) handlerAt.set(job.id, performance.now());
  });
  try {
    await control.ready();
    const latency = await sequentialLatency(input, async (n) => {
      const id = await boss.send(QUEUE, { n });
      if (id === null) throw new Error('pg-boss send() returned no job id.');
      await completions.wait(id, `pg-boss job ${n}`);
      return handlerAt.get(id);
    });
    control.measured();
    return latency;
  } finally {
    await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
    await completions.end();
  }
}
