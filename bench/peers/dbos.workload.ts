/**
 * DBOS Transact in a worker process of its own (see ../support/child.ts): DBOS is a per-process
 * singleton, configured (its system database: a fresh database of the bench server) and launched
 * during the untimed setup, without decorators: DBOS.registerWorkflow() of a function whose three
 * steps are DBOS.runStep() calls (a chain, like our 3-step flow), no-op steps.
 * - throughput: `workflows` workflows started with DBOS.startWorkflow() by `concurrency`
 *   concurrent callers, each awaiting its workflow's result;
 * - latency: one workflow at a time (a random think time between): start → the first step runs,
 *   start → getResult() resolves.
 */
import type { ChildControl } from '../support/child.ts';
import { inParallel, type LatencyRequest, sequentialLatency } from '../support/figures.ts';

export interface DbosInput {
  readonly url: string;
  readonly workflows: number;
  readonly concurrency: number;
}

export interface DbosLatencyInput extends LatencyRequest {
  readonly url: string;
}

const firstStepAt = new Map<number, number>();

async function launch(url: string) {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  DBOS.setConfig({ name: 'pgflow-bench', systemDatabaseUrl: url, applicationVersion: '1', logLevel: 'error' });
  const threeSteps = DBOS.registerWorkflow(
    async (n: number) => {
      const a = await DBOS.runStep(
        async () => {
          firstStepAt.set(n, performance.now());
          return n;
        },
        { name: 'a' },
      );
      const b = await DBOS.runStep(async () => a + 1, { name: 'b' });
      return DBOS.runStep(async () => b + 1, { name: 'c' });
    },
    { name: 'threeSteps' },
  );
  await DBOS.launch();
  return { DBOS, threeSteps };
}

export async function dbosThroughput(
  input: DbosInput,
  control: ChildControl,
): Promise<{ tasks: number; runs: number; seconds: number }> {
  const { DBOS, threeSteps } = await launch(input.url);
  try {
    await control.ready();
    const started = performance.now();
    await inParallel(input.workflows, input.concurrency, async (n) => {
      const handle = await DBOS.startWorkflow(threeSteps)(n);
      await handle.getResult();
    });
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.workflows * 3, runs: input.workflows, seconds };
  } finally {
    await DBOS.shutdown();
  }
}

export async function dbosLatency(
  input: DbosLatencyInput,
  control: ChildControl,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  const { DBOS, threeSteps } = await launch(input.url);
  try {
    await control.ready();
    const latency = await sequentialLatency(input, async (n) => {
      const handle = await DBOS.startWorkflow(threeSteps)(n);
      await handle.getResult();
      return firstStepAt.get(n);
    });
    control.measured();
    return latency;
  } finally {
    await DBOS.shutdown();
  }
}
