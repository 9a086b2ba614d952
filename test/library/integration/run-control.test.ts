/**
 * Run control through FlowClient in real Nest applications: cancel (a handler on a worker sees its
 * ctx.signal abort, cancelled from another application), NonRetryableError, retry from the failure,
 * a pause that survives a restart, idempotent starts under concurrency, and listing runs.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  InvalidOptionsError,
  NonRetryableError,
  RunCancelledError,
  RunNotRetryableError,
  Step,
  type StepContext,
  type StepInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

/** Switches the tests flip: a bug "fixed" between a run and its retry. */
@Injectable()
class Switches {
  bugFixed = false;
}

@Flow({ slug: 'rc_patient', maxAttempts: 1 })
class PatientFlow {
  constructor(private readonly log: CallLog) {}

  /** Waits up to 30 s, or until its signal aborts. */
  @Step()
  wait(_input: unknown, ctx: StepContext) {
    this.log.record(null, ctx);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve('waited'), 30_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
  }

  @Step({ dependsOn: ['wait'] })
  after(deps: StepInput<PatientFlow, 'wait'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return 'after';
  }
}

@Flow({ slug: 'rc_validate', maxAttempts: 5, baseDelay: 0 })
class ValidateFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  validate(input: { kind: string }, ctx: StepContext) {
    this.log.record(input, ctx);
    if (input.kind === 'class') throw new NonRetryableError('the order has no lines');
    throw Object.assign(new Error('permanently refused'), { retryable: false });
  }
}

@Flow({ slug: 'rc_chain', maxAttempts: 2, baseDelay: 0 })
class ChainFlow {
  constructor(
    private readonly log: CallLog,
    private readonly switches: Switches,
  ) {}

  @Step()
  a(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return { n: input.n, at: `a-${this.log.of('a').length}` };
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<ChainFlow, 'a'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    if (!this.switches.bugFixed) throw new Error('bug in b');
    return deps.a.n * 10;
  }

  @Step({ dependsOn: ['b'] })
  c(deps: StepInput<ChainFlow, 'b'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return deps.b + 1;
  }
}

@Flow({ slug: 'rc_simple', maxAttempts: 1 })
class SimpleFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  only(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return input.n;
  }
}

@Flow({ slug: 'rc_other', maxAttempts: 1 })
class OtherFlow {
  @Step()
  only(input: { n: number }) {
    return input.n;
  }
}

const db = useTestDatabase();
const apps = useApps();
const FLOWS = [CallLog, Switches, PatientFlow, ValidateFlow, ChainFlow, SimpleFlow, OtherFlow];

function startWorker() {
  return apps.start({ url: db.url, providers: FLOWS });
}

function startApi() {
  return apps.start({ url: db.url, providers: FLOWS, pgflow: { worker: { enabled: false } } });
}

describe('cancel', () => {
  it("aborts a running handler's signal on the worker with RunCancelledError, cancelled from another application", async () => {
    const worker = await startWorker();
    const api = await startApi();
    const log = worker.app.get(CallLog);
    const run = await api.client.start(PatientFlow, {});
    const [call] = await waitFor(() => (log.of('wait', run.runId).length > 0 ? log.of('wait', run.runId) : undefined));

    const waiting = run.wait({ timeoutMs: 20_000 }).catch((error: unknown) => error);
    expect(await api.client.cancel(run.runId, { reason: 'wrong input' })).toEqual({
      runId: run.runId,
      status: 'cancelled',
      cancelled: true,
    });
    // "Within about a second": waited for as a condition with a deadline, never timed.
    await waitFor(() => call?.signal.aborted, { timeoutMs: 5_000, description: 'the handler to see the abort' });
    expect(call?.signal.reason).toBeInstanceOf(RunCancelledError);
    expect(call?.signal.reason).toMatchObject({ runId: run.runId, reason: 'wrong input' });

    const error = await waiting;
    expect(error).toBeInstanceOf(RunCancelledError);
    expect(error).toMatchObject({ code: 'PGFLOW_RUN_CANCELLED', runId: run.runId, reason: 'wrong input' });
    const snapshot = await api.client.getRun(run.runId);
    expect(snapshot).toMatchObject({ status: 'cancelled', cancelReason: 'wrong input' });
    expect(snapshot.steps.map((step) => [step.stepSlug, step.status, step.tasks.map((t) => t.status)])).toEqual([
      ['wait', 'cancelled', ['cancelled']],
      ['after', 'cancelled', []],
    ]);
    const [messages] = await db.query<{ n: number }>(
      `select count(*)::int as n from pgmq.q_rc_patient where message->>'run_id' = $1`,
      [run.runId],
    );
    expect(messages?.n).toBe(0);
    expect(log.of('after', run.runId)).toEqual([]);
    // Cancelling again changes nothing and says so.
    expect(await api.client.cancel(run.runId)).toEqual({ runId: run.runId, status: 'cancelled', cancelled: false });
  });

  it('a cancelled run retried at once runs again on the worker that saw the cancel', async () => {
    const worker = await startWorker();
    const log = worker.app.get(CallLog);
    const run = await worker.client.start(PatientFlow, {});
    const [first] = await waitFor(() => (log.of('wait', run.runId).length > 0 ? log.of('wait', run.runId) : undefined));
    await worker.client.cancel(run.runId);
    await waitFor(() => first?.signal.aborted, { description: 'the handler to see the abort' });

    // The worker remembers the cancel for a while (a claim may race it); the retried run's task is not
    // dropped for it: the run's status says it is in progress again.
    await worker.client.retry(run.runId);
    const calls = await waitFor(
      () => (log.of('wait', run.runId).length === 2 ? log.of('wait', run.runId) : undefined),
      {
        description: 'the retried run to call wait again',
      },
    );
    expect(calls[1]?.attempt).toBe(1);
    await worker.client.cancel(run.runId);
  });

  it('an unknown run id is RunNotFoundError; a bad one InvalidOptionsError', async () => {
    const api = await startApi();
    await expect(api.client.cancel('00000000-0000-4000-8000-000000000999')).rejects.toMatchObject({
      code: 'PGFLOW_RUN_NOT_FOUND',
    });
    await expect(api.client.cancel('not-a-uuid')).rejects.toBeInstanceOf(InvalidOptionsError);
  });
});

describe('NonRetryableError', () => {
  it.each([
    ['NonRetryableError', 'class'],
    ['an error with retryable: false', 'flag'],
  ])('%s fails the task at once despite maxAttempts 5', async (_name, kind) => {
    const { app, client } = await startWorker();
    const run = await client.start(ValidateFlow, { kind });
    await expect(run.wait({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'PGFLOW_RUN_FAILED' });
    expect(app.get(CallLog).of('validate', run.runId)).toHaveLength(1);
    const [step] = (await client.getRun(run.runId)).steps;
    expect(step?.tasks).toEqual([expect.objectContaining({ status: 'failed', attemptsCount: 1 })]);
  });
});

describe('retry', () => {
  it('re-runs only the failed step and what follows it; the completed step keeps its output', async () => {
    const { app, client } = await startWorker();
    const log = app.get(CallLog);
    const run = await client.start(ChainFlow, { n: 4 });
    await expect(run.wait({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'PGFLOW_RUN_FAILED' });
    expect(log.of('b', run.runId)).toHaveLength(2);

    app.get(Switches).bugFixed = true;
    const retried = await client.retry(run.runId);
    expect(retried.runId).toBe(run.runId);
    const done = await retried.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ c: 41 });
    expect(log.of('a', run.runId)).toHaveLength(1);
    expect(log.of('b', run.runId)).toHaveLength(3);
    expect(log.of('c', run.runId)).toHaveLength(1);
    expect(log.of('b', run.runId)[2]?.attempt).toBe(1);
    const steps = (await client.getRun(run.runId)).steps;
    expect(steps[0]?.output).toEqual({ n: 4, at: 'a-1' }); // from its one and only call
  });

  it('refuses a run in progress with RunNotRetryableError, changing nothing', async () => {
    const worker = await startWorker();
    const run = await worker.client.start(PatientFlow, {});
    await waitFor(() => worker.app.get(CallLog).of('wait', run.runId).length > 0);
    const error = await worker.client.retry(run.runId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunNotRetryableError);
    expect(error).toMatchObject({ code: 'PGFLOW_RUN_NOT_RETRYABLE', reason: 'run-state', runId: run.runId });
    expect((error as Error).message).toContain(run.runId);
    expect((await worker.client.getRun(run.runId)).status).toBe('started');
    await worker.client.cancel(run.runId);
  });
});

describe('pause', () => {
  it('survives a restart: two new workers start no task of the paused flow until it is resumed', async () => {
    const first = await startWorker();
    expect(await first.client.pauseFlow(SimpleFlow)).toMatchObject({ flowSlug: 'rc_simple', paused: true });
    await first.close();

    const [a, b] = [await startWorker(), await startWorker()];
    const paused = await a.client.startMany(
      SimpleFlow,
      Array.from({ length: 50 }, (_, n) => ({ n })),
    );
    // Both workers serve another flow too: once its runs are done, the workers have polled since.
    const others = await b.client.startMany(
      OtherFlow,
      Array.from({ length: 20 }, (_, n) => ({ n })),
    );
    await Promise.all(others.map((run) => run.wait({ timeoutMs: 10_000 })));
    expect([...a.app.get(CallLog).of('only'), ...b.app.get(CallLog).of('only')]).toEqual([]);
    const [queued] = await db.query<{ queued: number; other: number }>(
      `select count(*) filter (where status = 'queued')::int as queued,
              count(*) filter (where status <> 'queued')::int as other
         from pgflow.step_tasks where flow_slug = 'rc_simple' and run_id = any($1::uuid[])`,
      [paused.map((run) => run.runId)],
    );
    expect(queued).toEqual({ queued: 50, other: 0 });

    expect(await a.client.resumeFlow('rc_simple')).toMatchObject({ paused: false, changed: true });
    const done = await Promise.all(paused.map((run) => run.wait({ timeoutMs: 20_000 })));
    expect(done.map((run) => run.output)).toEqual(paused.map((_, n) => ({ only: n })));
  });

  it('pausing an unknown flow is FlowNotFoundError', async () => {
    const api = await startApi();
    await expect(api.client.pauseFlow('no_such_flow')).rejects.toMatchObject({ code: 'PGFLOW_FLOW_NOT_FOUND' });
  });
});

describe('idempotent start', () => {
  it('20 concurrent starts with one key create one run and return 20 handles to it; the key survives a restart', async () => {
    const api = await startApi();
    const handles = await Promise.all(
      Array.from({ length: 20 }, (_, n) => api.client.start(SimpleFlow, { n }, { idempotencyKey: 'order-42' })),
    );
    expect(new Set(handles.map((handle) => handle.runId)).size).toBe(1);
    expect(handles.filter((handle) => !handle.deduplicated)).toHaveLength(1);
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from pgflow.runs where flow_slug = 'rc_simple' and idempotency_key = 'order-42'`,
    );
    expect(row?.n).toBe(1);

    await api.close();
    const again = await startApi();
    const later = await again.client.start(SimpleFlow, { n: 99 }, { idempotencyKey: 'order-42' });
    expect(later).toMatchObject({ runId: handles[0]?.runId, deduplicated: true });
  });

  it('a key longer than 255 characters is InvalidOptionsError naming the option', async () => {
    const api = await startApi();
    const error = await api.client
      .start(SimpleFlow, { n: 1 }, { idempotencyKey: 'k'.repeat(256) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('idempotencyKey');
  });
});

describe('listRuns', () => {
  it('pages through runs newest first with an opaque cursor; a bad cursor is InvalidOptionsError', async () => {
    const api = await startApi();
    const started = await api.client.startMany(
      OtherFlow,
      [1, 2, 3, 4, 5].map((n) => ({ n })),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await api.client.listRuns({ flow: OtherFlow, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.runs.map((run) => run.runId));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(started.map((run) => run.runId)));
    await expect(api.client.listRuns({ cursor: 'garbage' })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(api.client.listRuns({ limit: 0 })).rejects.toBeInstanceOf(InvalidOptionsError);
  });
});
