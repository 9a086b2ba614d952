/**
 * The programs of the scaling suite's worker processes (see ../support/child.ts). Each is a Node.js
 * process with its own Nest application, library worker and connection pool: the processes share
 * nothing but the database URL, as worker processes on several machines would.
 * - startRuns: untimed preparation of the database every measurement clones: the flow created and
 *   its one-step runs started by one FlowClient.startMany() call (one statement).
 * - serveUntilStopped: boots the app with its worker disabled, reports ready; at the parent's go it
 *   starts the worker, reports its handler calls as they grow, and stops when the parent says so
 *   (once the database shows every run complete); its CPU time counts from go to stop.
 */
import type { Type } from '@nestjs/common';
import { PgflowWorker, type PgflowWorkerOptions } from 'nestjs-pgflow';
import type { ChildControl } from '../support/child.ts';
import { BenchDatabase } from '../support/server.ts';
import { BenchOneStepFlow, handled } from '../worker/throughput-flows.ts';
import { startWorkerApp } from '../worker/worker-app.ts';
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

function appOf(input: ScalingInput) {
  return startWorkerApp(
    new BenchDatabase(input.database.name, input.database.url),
    { ...input.worker, enabled: false },
    [SCALING_FLOWS[input.handlers].flow],
  );
}

export async function startRuns(input: ScalingInput): Promise<{ runs: number; seconds: number }> {
  const runs = input.runs ?? 0;
  const app = await appOf(input);
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

/** How often a worker process reports its handler calls to the parent, ms. */
const PROGRESS_EVERY_MS = 10;

export async function serveUntilStopped(input: ScalingInput, control: ChildControl): Promise<{ handled: number }> {
  const app = await appOf(input);
  let reporter: NodeJS.Timeout | undefined;
  try {
    handled.count = 0;
    await control.ready();
    let reported = 0;
    reporter = setInterval(() => {
      if (handled.count === reported) return;
      reported = handled.count;
      control.progress(reported);
    }, PROGRESS_EVERY_MS);
    await app.app.get(PgflowWorker).start();
    await control.stopRequested();
    control.measured();
    return { handled: handled.count };
  } finally {
    clearInterval(reporter);
    await app.close();
  }
}
