/**
 * What the scaling suite's worker processes (worker-host.ts) run: a Nest application of their own
 * with the library's worker and only the workload's flow, booted with its worker disabled (the
 * parent starts every process's worker at once), and the untimed preparation of the database that
 * every measurement clones (the flow created and its one-step runs started by one startMany()).
 */
import type { Type } from '@nestjs/common';
import type { PgflowWorkerOptions } from 'nestjs-pgflow';
import { BenchDatabase } from '../support/server.ts';
import { BenchOneStepFlow } from '../worker/throughput-flows.ts';
import { startWorkerApp, type WorkerApp } from '../worker/worker-app.ts';
import { BenchWaitingFlow } from './scaling-flows.ts';

/** The handlers: no-op (the database is the ceiling) or waiting (each process's concurrency is). */
export type ScalingHandlers = 'no-op' | 'waiting';

export const SCALING_FLOWS: Record<ScalingHandlers, { readonly flow: Type; readonly slug: string }> = {
  'no-op': { flow: BenchOneStepFlow, slug: 'bench_one_step' },
  waiting: { flow: BenchWaitingFlow, slug: 'bench_scaling_wait' },
};

export interface ScalingInput {
  readonly database: { readonly name: string; readonly url: string };
  readonly handlers: ScalingHandlers;
  readonly worker: PgflowWorkerOptions;
  /** One-step runs to start (startRuns). */
  readonly runs?: number;
}

/** The app, its worker disabled until PgflowWorker.start(). */
export function bootScalingApp(input: ScalingInput): Promise<WorkerApp> {
  return startWorkerApp(
    new BenchDatabase(input.database.name, input.database.url),
    { ...input.worker, enabled: false },
    [SCALING_FLOWS[input.handlers].flow],
  );
}

export async function startRuns(input: ScalingInput): Promise<{ runs: number; seconds: number }> {
  const runs = input.runs ?? 0;
  const app = await bootScalingApp(input);
  try {
    const started = performance.now();
    await app.client.startMany(
      SCALING_FLOWS[input.handlers].slug,
      Array.from({ length: runs }, (_, i) => ({ n: i + 1 })),
    );
    return { runs, seconds: (performance.now() - started) / 1000 };
  } finally {
    await app.close();
  }
}
