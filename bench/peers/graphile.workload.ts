/**
 * graphile-worker in a worker process of its own (see ../support/child.ts), on a fresh database:
 * its migrations run during the untimed setup, its runner is started by the clock.
 * - drain: `jobs` no-op jobs added beforehand in one addJobs() call, then the runner drains them;
 * - chain: the hand-chained 3-step baseline: job a adds job b, b adds c (helpers.addJob, as a task
 *   would); `jobs` chains, their first jobs added by 20 concurrent addJob() callers inside the clock;
 * - latency: one job at a time (a random think time between): addJob() → the handler starts, and
 *   addJob() → the job's completion is committed (a NOTIFY from a trigger on the deletion of its
 *   row, the way our wait() hears of a run's end).
 * Success logging is off (NO_LOG_SUCCESS, graphile-worker's own switch for benchmarks).
 */
import type { ChildControl } from '../support/child.ts';
import { inParallel, type LatencyRequest, sequentialLatency, until } from '../support/figures.ts';
import { Completions } from './completions.ts';

export type GraphileSettings = 'defaults' | 'high-throughput';

/**
 * graphile-worker's documented high-throughput settings (worker.graphile.org/docs/performance):
 * 24 concurrent jobs, a pool of 25, a local queue of 500, completions and failures batched.
 */
export const GRAPHILE_HIGH_THROUGHPUT = {
  concurrency: 24,
  maxPoolSize: 25,
  preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
} as const;

export interface GraphileInput {
  readonly url: string;
  readonly settings: GraphileSettings;
  readonly jobs: number;
}

export interface GraphileResult {
  readonly tasks: number;
  readonly runs: number;
  readonly seconds: number;
  readonly startSeconds?: number;
}

async function load() {
  process.env.NO_LOG_SUCCESS = '1';
  return import('graphile-worker');
}

async function quietLogger() {
  const { Logger } = await load();
  return new Logger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
}

function runnerOptions(input: GraphileInput) {
  return input.settings === 'defaults' ? {} : GRAPHILE_HIGH_THROUGHPUT;
}

export async function graphileDrain(input: GraphileInput, control: ChildControl): Promise<GraphileResult> {
  const { run, runMigrations, makeWorkerUtils } = await load();
  const logger = await quietLogger();
  await runMigrations({ connectionString: input.url, logger });
  const utils = await makeWorkerUtils({ connectionString: input.url, logger });
  try {
    await utils.addJobs(Array.from({ length: input.jobs }, (_, n) => ({ identifier: 'noop', payload: { n } })));
  } finally {
    await utils.release();
  }
  let done = 0;
  await control.ready();
  const started = performance.now();
  const runner = await run({
    connectionString: input.url,
    noHandleSignals: true,
    logger,
    ...runnerOptions(input),
    taskList: {
      noop: async () => {
        done += 1;
      },
    },
  });
  try {
    await until(() => done >= input.jobs, `${input.jobs} graphile-worker jobs (${done} so far)`);
    await untilNoJobs(input.url);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.jobs, runs: input.jobs, seconds };
  } finally {
    await runner.stop();
  }
}

/** Completions may still be batched: waits until the jobs table is empty. */
async function untilNoJobs(url: string): Promise<void> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: url, application_name: 'bench probe' });
  await client.connect();
  try {
    await until(
      async () => {
        const { rows } = await client.query('select exists (select 1 from graphile_worker._private_jobs) as left');
        return rows[0]?.left === false;
      },
      'the graphile-worker jobs table to be empty',
      60_000,
      5,
    );
  } finally {
    await client.end();
  }
}

export async function graphileChain(input: GraphileInput, control: ChildControl): Promise<GraphileResult> {
  const { run, runMigrations, makeWorkerUtils } = await load();
  const logger = await quietLogger();
  await runMigrations({ connectionString: input.url, logger });
  let done = 0;
  const runner = await run({
    connectionString: input.url,
    noHandleSignals: true,
    logger,
    ...runnerOptions(input),
    taskList: {
      a: async (payload, helpers) => {
        await helpers.addJob('b', payload as { n: number });
      },
      b: async (payload, helpers) => {
        await helpers.addJob('c', payload as { n: number });
      },
      c: async () => {
        done += 1;
      },
    },
  });
  const utils = await makeWorkerUtils({ connectionString: input.url, logger });
  try {
    await control.ready();
    const started = performance.now();
    await inParallel(input.jobs, 20, (n) => utils.addJob('a', { n }));
    const startSeconds = (performance.now() - started) / 1000;
    await until(() => done >= input.jobs, `${input.jobs} graphile-worker chains (${done} so far)`);
    await untilNoJobs(input.url);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.jobs * 3, runs: input.jobs, seconds, startSeconds };
  } finally {
    await utils.release();
    await runner.stop();
  }
}

export interface GraphileLatencyInput extends LatencyRequest {
  readonly url: string;
}

export async function graphileLatency(
  input: GraphileLatencyInput,
  control: ChildControl,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  const { run, runMigrations, makeWorkerUtils } = await load();
  const logger = await quietLogger();
  await runMigrations({ connectionString: input.url, logger });
  const completions = await Completions.listen(input.url, [
    `create function public.bench_job_done() returns trigger language plpgsql as $$
      begin perform pg_notify('bench_job_done', old.id::text); return old; end $$`,
    `create trigger bench_job_done after delete on graphile_worker._private_jobs
      for each row execute function public.bench_job_done()`,
  ]);
  const handlerAt = new Map<number, number>();
  const runner = await run({
    connectionString: input.url,
    noHandleSignals: true,
    logger,
    taskList: {
      noop: async (payload) => {
        handlerAt.set((payload as { n: number }).n, performance.now());
      },
    },
  });
  const utils = await makeWorkerUtils({ connectionString: input.url, logger });
  try {
    await control.ready();
    const latency = await sequentialLatency(input, async (n) => {
      const job = await utils.addJob('noop', { n });
      await completions.wait(job.id, `graphile-worker job ${n}`);
      return handlerAt.get(n);
    });
    control.measured();
    return latency;
  } finally {
    await utils.release();
    await runner.stop();
    await completions.end();
  }
}
