/**
 * Failure handling in a real Nest application: retries with ctx.attempt, exhaustion failing the
 * run (and wait() rejecting with the step and the message), whenExhausted 'skip', and conditions
 * (`if` / `ifNot` / whenUnmet) deciding which steps run.
 */
import { Injectable } from '@nestjs/common';
import { Flow, RunFailedError, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

@Flow({ slug: 'retry_flaky', maxAttempts: 3, baseDelay: 0 })
class FlakyFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  flaky(input: { succeedOn: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    if (ctx.attempt < input.succeedOn) throw new Error(`attempt ${ctx.attempt} failed`);
    return `ok on attempt ${ctx.attempt}`;
  }
}

@Flow({ slug: 'retry_exhausted', maxAttempts: 2, baseDelay: 0 })
class ExhaustedFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  charge(input: { amount: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    throw new Error(`card declined for ${input.amount}`);
  }

  @Step({ dependsOn: ['charge'] })
  ship(deps: StepInput<ExhaustedFlow, 'charge'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return 'shipped';
  }
}

@Flow({ slug: 'retry_skip', maxAttempts: 1, baseDelay: 0 })
class SkipOnFailureFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  base() {
    return 'base';
  }

  @Step({ dependsOn: ['base'], whenExhausted: 'skip' })
  enrich(): string {
    throw new Error('enrichment service down');
  }

  @Step({ dependsOn: ['base', 'enrich'] })
  report(deps: Partial<StepInput<SkipOnFailureFlow, 'base' | 'enrich'>>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return `report from ${Object.keys(deps).join(',')}`;
  }

  @Step({ whenExhausted: 'skip', maxAttempts: 2 })
  audit(): string {
    throw new Error('audit log unavailable');
  }
}

@Injectable()
class Notifier {
  readonly sent: unknown[] = [];
}

@Flow({ slug: 'cond_flow', maxAttempts: 1 })
class ConditionalFlow {
  constructor(
    private readonly log: CallLog,
    private readonly notifier: Notifier,
  ) {}

  @Step()
  always(input: { premium: boolean; test?: boolean }) {
    return input.premium ? 'premium' : 'basic';
  }

  @Step({ if: { premium: true } })
  notify(input: { premium: boolean }, ctx: StepContext) {
    this.log.record(input, ctx);
    this.notifier.sent.push(input);
    return 'notified';
  }

  @Step({ ifNot: { test: true } })
  bill(input: { premium: boolean }, ctx: StepContext) {
    this.log.record(input, ctx);
    return 'billed';
  }

  @Step({ dependsOn: ['always', 'notify'] })
  summary(deps: Partial<StepInput<ConditionalFlow, 'always' | 'notify'>>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return Object.keys(deps).sort();
  }
}

@Flow({ slug: 'cond_fail', maxAttempts: 1 })
class MustMatchFlow {
  @Step({ if: { approved: true }, whenUnmet: 'fail' })
  approve(): string {
    return 'approved';
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({
    url: db.url,
    providers: [CallLog, Notifier, FlakyFlow, ExhaustedFlow, SkipOnFailureFlow, ConditionalFlow, MustMatchFlow],
  });
}

describe('retries and exhaustion', () => {
  it('retries a failing handler and completes when an attempt succeeds, with ctx.attempt 1, 2, 3', async () => {
    const { app, client } = await startApp();
    const run = await client.start(FlakyFlow, { succeedOn: 3 });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ flaky: 'ok on attempt 3' });
    expect(
      app
        .get(CallLog)
        .of('flaky', run.runId)
        .map((call) => call.attempt),
    ).toEqual([1, 2, 3]);
    const [step] = (await client.getRun(run.runId)).steps;
    expect(step?.tasks).toEqual([expect.objectContaining({ taskIndex: 0, status: 'completed', attemptsCount: 3 })]);
  });

  it('fails the run when the attempts are exhausted; wait() rejects naming the step and the error', async () => {
    const { app, client } = await startApp();
    const run = await client.start(ExhaustedFlow, { amount: 42 });

    const error = await run.wait({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({
      code: 'PGFLOW_RUN_FAILED',
      runId: run.runId,
      stepSlug: 'charge',
      errorMessage: expect.stringContaining('card declined for 42'),
    });
    const log = app.get(CallLog);
    expect(log.of('charge', run.runId).map((call) => call.attempt)).toEqual([1, 2]);
    expect(log.of('ship', run.runId)).toEqual([]);

    const snapshot = await client.getRun(run.runId);
    expect(snapshot).toMatchObject({ status: 'failed', failedAt: expect.any(Date), completedAt: null });
    expect(snapshot.steps.map((step) => [step.stepSlug, step.status])).toEqual([
      ['charge', 'failed'],
      ['ship', 'created'],
    ]);
    expect(snapshot.steps[0]?.tasks).toEqual([
      expect.objectContaining({
        status: 'failed',
        attemptsCount: 2,
        errorMessage: expect.stringContaining('card declined for 42'),
      }),
    ]);
  });

  it("whenExhausted 'skip' skips the failed step: dependents run without its key, the run completes without it", async () => {
    const { app, client } = await startApp();
    const run = await client.start(SkipOnFailureFlow, {});
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ report: 'report from base' });
    expect(
      app
        .get(CallLog)
        .of('report', run.runId)
        .map((call) => call.input),
    ).toEqual([{ base: 'base' }]);
    const steps = (await client.getRun(run.runId)).steps;
    expect(steps.find((step) => step.stepSlug === 'enrich')).toMatchObject({
      status: 'skipped',
      skipReason: 'handler_failed',
      output: null,
    });
    expect(steps.find((step) => step.stepSlug === 'audit')).toMatchObject({
      status: 'skipped',
      skipReason: 'handler_failed',
      tasks: [expect.objectContaining({ status: 'failed', attemptsCount: 2 })],
    });
  });
});

describe('conditions', () => {
  it('skips a step whose `if` pattern the input does not contain, without calling its handler', async () => {
    const { app, client } = await startApp();
    const run = await client.start(ConditionalFlow, { premium: false });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ bill: 'billed', summary: ['always'] });
    expect(app.get(CallLog).of('notify', run.runId)).toEqual([]);
    expect(app.get(Notifier).sent).toEqual([]);
    const notify = (await client.getRun(run.runId)).steps.find((step) => step.stepSlug === 'notify');
    expect(notify).toMatchObject({ status: 'skipped', skipReason: 'condition_unmet', tasks: [] });
  });

  it('runs a step whose `if` pattern the input contains, and its dependent gets its output', async () => {
    const { app, client } = await startApp();
    const run = await client.start(ConditionalFlow, { premium: true });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ bill: 'billed', summary: ['always', 'notify'] });
    expect(
      app
        .get(CallLog)
        .of('summary', run.runId)
        .map((call) => call.input),
    ).toEqual([{ always: 'premium', notify: 'notified' }]);
  });

  it('skips a step whose `ifNot` pattern the input contains', async () => {
    const { app, client } = await startApp();
    const run = await client.start(ConditionalFlow, { premium: true, test: true });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ summary: ['always', 'notify'] });
    expect(app.get(CallLog).of('bill', run.runId)).toEqual([]);
  });

  it("whenUnmet 'fail' fails the run, and wait() rejects naming the step", async () => {
    const { client } = await startApp();
    const run = await client.start(MustMatchFlow, { approved: false });

    const error = await run.wait({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({ runId: run.runId, stepSlug: 'approve' });
  });
});
