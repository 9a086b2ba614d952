/**
 * The library's workloads that run in a worker process of their own (see ../support/child.ts): one
 * Nest application with the library's worker and only the flows the workload needs, no-op handlers.
 * Each boots the app outside the clock, then:
 * - startRunsInBatch, then drainStartedRuns: runs started beforehand (untimed) by one
 *   FlowClient.startMany() call (one statement), in a database that each round clones; the clock runs from the worker's start (PgflowWorker.start(),
 *   the app booted with the worker disabled) until every run is complete;
 * - startAndDrain: the worker runs; the clock runs from the first FlowClient.start() (the runs
 *   started by `starters` concurrent callers) until every run is complete;
 * - latencyOf: sequential runs with a random think time: start() → first handler, start() → wait().
 */
import type { Type } from '@nestjs/common';
import { PgflowWorker, type PgflowWorkerOptions } from 'nestjs-pgflow';
import pg from 'pg';
import type { ChildControl } from '../support/child.ts';
import { inParallel, type LatencyRequest, sequentialLatency, until, untilRunsCompleted } from '../support/figures.ts';
import { BenchDatabase } from '../support/server.ts';
import { firstHandlerAt, LatencyOneStepFlow, LatencyThreeStepFlow } from './bench-flows.ts';
import {
  BenchCountedChainFlow,
  BenchCountedMapReduceFlow,
  BenchDiamondFlow,
  BenchOneStepFlow,
  DIAMOND_WIDTH,
  handled,
} from './throughput-flows.ts';
import { startWorkerApp } from './worker-app.ts';

export type LibraryShape = 'one-step' | 'chain' | 'diamond' | 'map-reduce';

export interface LibraryInput {
  readonly database: { readonly name: string; readonly url: string };
  readonly worker: PgflowWorkerOptions;
  readonly shape: LibraryShape;
  /** Runs; for map-reduce, the map's size (one run). */
  readonly size: number;
  /** Concurrent FlowClient.start() callers (startAndDrain). */
  readonly starters?: number;
}

/** What a library workload reports from its process (CPU and RSS are added by the child runner). */
export interface LibraryResult {
  readonly tasks: number;
  readonly runs: number;
  readonly seconds: number;
  readonly startSeconds?: number;
}

const SHAPES: Record<
  LibraryShape,
  { flow: Type; slug: string; tasksPerRun: (size: number) => number; runs: (size: number) => number }
> = {
  'one-step': { flow: BenchOneStepFlow, slug: 'bench_one_step', tasksPerRun: () => 1, runs: (n) => n },
  chain: { flow: BenchCountedChainFlow, slug: 'bench_chain_3', tasksPerRun: () => 3, runs: (n) => n },
  diamond: { flow: BenchDiamondFlow, slug: 'bench_diamond', tasksPerRun: () => DIAMOND_WIDTH + 2, runs: (n) => n },
  'map-reduce': {
    flow: BenchCountedMapReduceFlow,
    slug: 'bench_map_reduce_10k',
    tasksPerRun: (n) => n + 1,
    runs: () => 1,
  },
};

function totals(input: LibraryInput): { tasks: number; runs: number } {
  const shape = SHAPES[input.shape];
  const runs = shape.runs(input.size);
  return { runs, tasks: runs * shape.tasksPerRun(input.size) };
}

async function connect(input: LibraryInput): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: input.database.url, application_name: 'pgflow bench probe' });
  await client.connect();
  return client;
}

/** Waits for every handler, then for the database to show every run complete. */
async function allComplete(probe: pg.Client, slug: string, tasks: number): Promise<void> {
  await until(() => handled.count >= tasks, `${tasks} handler calls (${handled.count} so far)`);
  await untilRunsCompleted(probe, slug);
}

/**
 * Untimed preparation of a database that drainStartedRuns' rounds clone: boots the app with its
 * worker disabled (which creates the flow), starts the runs by one FlowClient.startMany() call, and
 * reports how long that call took.
 */
export async function startRunsInBatch(input: LibraryInput): Promise<{ runs: number; seconds: number }> {
  const shape = SHAPES[input.shape];
  const { runs } = totals(input);
  const app = await startWorkerApp(
    new BenchDatabase(input.database.name, input.database.url),
    { ...input.worker, enabled: false },
    [shape.flow],
  );
  try {
    const inputs = Array.from({ length: runs }, (_, i) => ({ n: i + 1 }));
    const started = performance.now();
    await app.client.startMany(shape.slug, inputs);
    return { runs, seconds: (performance.now() - started) / 1000 };
  } finally {
    await app.close();
  }
}

/** Drains runs started beforehand (a clone of startRunsInBatch's database): the clock starts with the worker. */
export async function drainStartedRuns(input: LibraryInput, control: ChildControl): Promise<LibraryResult> {
  const shape = SHAPES[input.shape];
  const { tasks, runs } = totals(input);
  const app = await startWorkerApp(
    new BenchDatabase(input.database.name, input.database.url),
    { ...input.worker, enabled: false },
    [shape.flow],
  );
  const probe = await connect(input);
  try {
    handled.count = 0;
    await control.ready();
    const started = performance.now();
    await app.app.get(PgflowWorker).start();
    await allComplete(probe, shape.slug, tasks);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks, runs, seconds };
  } finally {
    await probe.end();
    await app.close();
  }
}

export async function startAndDrain(input: LibraryInput, control: ChildControl): Promise<LibraryResult> {
  const shape = SHAPES[input.shape];
  const { tasks, runs } = totals(input);
  const app = await startWorkerApp(new BenchDatabase(input.database.name, input.database.url), input.worker, [
    shape.flow,
  ]);
  const probe = await connect(input);
  try {
    handled.count = 0;
    await control.ready();
    const started = performance.now();
    if (input.shape === 'map-reduce') {
      await app.client.start(
        BenchCountedMapReduceFlow,
        Array.from({ length: input.size }, (_, i) => i),
      );
    } else {
      await inParallel(runs, input.starters ?? 20, (n) => app.client.start(shape.slug, { n }));
    }
    const startSeconds = (performance.now() - started) / 1000;
    await allComplete(probe, shape.slug, tasks);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks, runs, seconds, startSeconds };
  } finally {
    await probe.end();
    await app.close();
  }
}

export interface LatencyInput extends LatencyRequest {
  readonly database: { readonly name: string; readonly url: string };
  readonly steps: 1 | 3;
}

/** Sequential runs at the default worker settings: start() → first handler, start() → wait() resolves. */
export async function latencyOf(
  input: LatencyInput,
  control: ChildControl,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  const flow = input.steps === 1 ? LatencyOneStepFlow : LatencyThreeStepFlow;
  const app = await startWorkerApp(new BenchDatabase(input.database.name, input.database.url), {}, [flow]);
  try {
    await control.ready();
    const latency = await sequentialLatency(input, async () => {
      const run = await app.client.start(input.steps === 1 ? 'bench_latency_1' : 'bench_latency_3', {});
      await run.wait({ timeoutMs: 30_000 });
      return firstHandlerAt.get(run.runId);
    });
    control.measured();
    return latency;
  } finally {
    await app.close();
  }
}
