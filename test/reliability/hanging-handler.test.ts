/**
 * A handler that never returns: the step's timeout fires its AbortSignal (reason: a
 * TaskTimeoutError), the attempt fails with that message, the task is retried while attempts
 * remain, the run then ends per whenExhausted, and the worker's slot is freed each time, so that
 * other work goes on even with maxConcurrent 1.
 */
import { Flow, RunFailedError, Step, type StepContext, TaskTimeoutError } from 'nestjs-pgflow';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';

/** What the hanging handlers were called with, in call order. */
const calls: Array<{ attempt: number; signal: AbortSignal }> = [];

function never(ctx: StepContext): Promise<never> {
  calls.push({ attempt: ctx.attempt, signal: ctx.signal });
  return new Promise<never>(() => {});
}

@Flow({ slug: 'rel_hang', maxAttempts: 2, baseDelay: 0, timeout: 1 })
class HangingFlow {
  @Step()
  stuck(_input: { n: number }, ctx: StepContext): Promise<never> {
    return never(ctx);
  }
}

@Flow({ slug: 'rel_hang_skip', maxAttempts: 1, timeout: 1 })
class HangingSkippedFlow {
  @Step({ whenExhausted: 'skip' })
  stuck(_input: { n: number }, ctx: StepContext): Promise<never> {
    return never(ctx);
  }

  @Step()
  steady(input: { n: number }): number {
    return input.n;
  }
}

@Flow({ slug: 'rel_quick' })
class QuickFlow {
  @Step()
  ping(input: { n: number }): { pong: number } {
    return { pong: input.n };
  }
}

const db = useTestDatabase();
const apps = useApps();

afterEach(() => {
  calls.length = 0;
});

function startApp() {
  return apps.start({
    url: db.url,
    providers: [HangingFlow, HangingSkippedFlow, QuickFlow],
    pgflow: { worker: { maxConcurrent: 1 } },
  });
}

describe('a handler that never returns', () => {
  it('times out: its signal fires with a TaskTimeoutError, the task is retried, and the run fails per whenExhausted fail', async () => {
    const { client } = await startApp();
    const run = await client.start(HangingFlow, { n: 1 });

    const failure = await run.wait({ timeoutMs: 20_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(failure).toMatchObject({
      stepSlug: 'stuck',
      errorMessage: "Step 'stuck' did not finish within its timeout of 1 s.",
    });
    expect(calls.map((call) => call.attempt)).toEqual([1, 2]);
    for (const call of calls) {
      expect(call.signal.aborted).toBe(true);
      expect(call.signal.reason).toBeInstanceOf(TaskTimeoutError);
      expect(call.signal.reason).toMatchObject({
        code: 'PGFLOW_TASK_TIMEOUT',
        runId: run.runId,
        stepSlug: 'stuck',
        taskIndex: 0,
        attempt: call.attempt,
        timeoutSeconds: 1,
      });
    }
    const tasks = await db.query('select status, attempts_count from pgflow.step_tasks where run_id = $1', [run.runId]);
    expect(tasks).toEqual([{ status: 'failed', attempts_count: 2 }]);
  }, 30_000);

  it('frees its slot: with maxConcurrent 1, runs of another flow started behind it complete', async () => {
    const { client } = await startApp();
    const hanging = await client.start(HangingFlow, { n: 1 });
    await waitFor(() => calls.length === 1, { description: 'the hanging handler to hold the only slot' });
    const quick = await Promise.all([1, 2, 3].map((n) => client.start(QuickFlow, { n })));

    const outputs = await Promise.all(quick.map((run) => run.wait({ timeoutMs: 20_000 })));
    expect(outputs.map((run) => run.output)).toEqual([1, 2, 3].map((n) => ({ ping: { pong: n } })));
    await expect(hanging.wait({ timeoutMs: 20_000 })).rejects.toBeInstanceOf(RunFailedError);
  }, 30_000);

  it("with whenExhausted 'skip', the run completes without the hanging step", async () => {
    const { client } = await startApp();
    const run = await client.start(HangingSkippedFlow, { n: 7 });

    const done = await run.wait({ timeoutMs: 20_000 });
    expect(done.output).toEqual({ steady: 7 });
    const snapshot = await client.getRun(run.runId);
    expect(snapshot.steps.find((step) => step.stepSlug === 'stuck')).toMatchObject({
      status: 'skipped',
      skipReason: 'handler_failed',
      errorMessage: "Step 'stuck' did not finish within its timeout of 1 s.",
    });
  }, 30_000);
});
