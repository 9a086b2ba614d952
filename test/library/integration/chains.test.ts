/**
 * Flows of single steps in a real Nest application: chains, fan-out and fan-in, what each handler
 * receives (input and context), and what the run's output holds.
 */
import { Injectable } from '@nestjs/common';
import { Flow, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

@Injectable()
class PricingService {
  readonly calls: Array<[string, ...unknown[]]> = [];

  quote(sku: string, quantity: number): { sku: string; total: number } {
    this.calls.push(['quote', sku, quantity]);
    return { sku, total: 5 * quantity };
  }

  tax(total: number): number {
    this.calls.push(['tax', total]);
    return total / 5;
  }

  format(total: number, tax: number): string {
    this.calls.push(['format', total, tax]);
    return `${total + tax} EUR`;
  }
}

@Flow({ slug: 'chains_order', maxAttempts: 1 })
class OrderFlow {
  constructor(private readonly pricing: PricingService) {}

  @Step()
  quote(input: { sku: string; quantity: number }) {
    return this.pricing.quote(input.sku, input.quantity);
  }

  @Step({ dependsOn: ['quote'] })
  async tax(deps: StepInput<OrderFlow, 'quote'>) {
    return { total: deps.quote.total, tax: await Promise.resolve(this.pricing.tax(deps.quote.total)) };
  }

  @Step({ dependsOn: ['tax'] })
  invoice(deps: StepInput<OrderFlow, 'tax'>) {
    return this.pricing.format(deps.tax.total, deps.tax.tax);
  }
}

@Flow({ slug: 'chains_diamond', maxAttempts: 1 })
class DiamondFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  fetch(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return input.n;
  }

  @Step({ dependsOn: ['fetch'] })
  double(deps: StepInput<DiamondFlow, 'fetch'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return deps.fetch * 2;
  }

  @Step({ dependsOn: ['fetch'] })
  square(deps: StepInput<DiamondFlow, 'fetch'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return deps.fetch ** 2;
  }

  @Step({ dependsOn: ['double', 'square'] })
  combine(deps: StepInput<DiamondFlow, 'double' | 'square'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return deps.double + deps.square;
  }
}

@Flow({ slug: 'chains_two_roots', maxAttempts: 1 })
class TwoRootsFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  plusOne(input: { x: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return input.x + 1;
  }

  @Step()
  timesTen(input: { x: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return input.x * 10;
  }

  @Step({ dependsOn: ['plusOne', 'timesTen'] })
  both(deps: StepInput<TwoRootsFlow, 'plusOne' | 'timesTen'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return [deps.plusOne, deps.timesTen];
  }
}

@Flow({ slug: 'chains_falsy', maxAttempts: 1 })
class FalsyOutputsFlow {
  @Step()
  zero() {
    return 0;
  }

  @Step()
  no() {
    return false;
  }

  @Step()
  empty() {
    return '';
  }

  @Step()
  nothing(): void {}

  @Step()
  async nothingAsync(): Promise<undefined> {
    return undefined;
  }

  @Step()
  explicitNull() {
    return null;
  }
}

@Flow({ slug: 'chains_renamed', maxAttempts: 1 })
class RenamedStepsFlow {
  constructor(private readonly log: CallLog) {}

  @Step({ slug: 'load_user' })
  loadUser(input: { id: number }) {
    return { id: input.id, name: `user ${input.id}` };
  }

  @Step({ slug: 'greeting', dependsOn: ['load_user'] })
  greet(deps: unknown, ctx: StepContext) {
    this.log.record(deps, ctx);
    return `hi ${(deps as { load_user: { name: string } }).load_user.name}`;
  }
}

@Flow({ slug: 'chains_large', maxAttempts: 1 })
class LargeOutputFlow {
  @Step()
  big(input: { size: number }) {
    return { text: 'x'.repeat(input.size), rows: Array.from({ length: 200 }, (_, i) => ({ i, label: `row ${i}` })) };
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({
    url: db.url,
    providers: [
      PricingService,
      CallLog,
      OrderFlow,
      DiamondFlow,
      TwoRootsFlow,
      FalsyOutputsFlow,
      RenamedStepsFlow,
      LargeOutputFlow,
    ],
  });
}

describe('single-step flows in a Nest application', () => {
  it('a 3-step chain with an injected service completes with the last step as output', async () => {
    const { app, client } = await startApp();
    const run = await client.start(OrderFlow, { sku: 'abc', quantity: 10 });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done).toEqual({
      runId: run.runId,
      flowSlug: 'chains_order',
      status: 'completed',
      input: { sku: 'abc', quantity: 10 },
      output: { invoice: '60 EUR' },
      startedAt: expect.any(Date),
      completedAt: expect.any(Date),
    });
    expect(done.completedAt.getTime()).toBeGreaterThanOrEqual(done.startedAt.getTime());
    expect(app.get(PricingService).calls).toEqual([
      ['quote', 'abc', 10],
      ['tax', 50],
      ['format', 50, 10],
    ]);
  });

  it('returns a handle naming the run and its flow, by class or by slug', async () => {
    const { client } = await startApp();
    const byClass = await client.start(OrderFlow, { sku: 'a', quantity: 1 });
    const bySlug = await client.start('chains_order', { sku: 'b', quantity: 2 });

    expect(byClass.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(byClass.flowSlug).toBe('chains_order');
    expect(bySlug.flowSlug).toBe('chains_order');
    expect(bySlug.runId).not.toBe(byClass.runId);
    await expect(bySlug.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { invoice: '12 EUR' } });
    await expect(byClass.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { invoice: '6 EUR' } });
  });

  it('a diamond gives the fan-in step the outputs of both branches, and only those', async () => {
    const { app, client } = await startApp();
    const run = await client.start(DiamondFlow, { n: 7 });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ combine: 63 });
    const log = app.get(CallLog);
    expect(log.of('double', run.runId).map((call) => call.input)).toEqual([{ fetch: 7 }]);
    expect(log.of('square', run.runId).map((call) => call.input)).toEqual([{ fetch: 7 }]);
    expect(log.of('combine', run.runId).map((call) => call.input)).toEqual([{ double: 14, square: 49 }]);
  });

  it('two root steps both receive the flow input, and their fan-in receives both outputs', async () => {
    const { app, client } = await startApp();
    const run = await client.start(TwoRootsFlow, { x: 4 });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ both: [5, 40] });
    const log = app.get(CallLog);
    expect(log.of('plusOne', run.runId).map((call) => call.input)).toEqual([{ x: 4 }]);
    expect(log.of('timesTen', run.runId).map((call) => call.input)).toEqual([{ x: 4 }]);
    expect(log.of('both', run.runId).map((call) => call.input)).toEqual([{ plusOne: 5, timesTen: 40 }]);
  });

  it('gives each handler its context: run, flow, step, task index, attempt, flow input, signal, kind', async () => {
    const { app, client } = await startApp();
    const run = await client.start(DiamondFlow, { n: 2 });
    await run.wait({ timeoutMs: 10_000 });

    const calls = app.get(CallLog).calls.filter((call) => call.runId === run.runId);
    expect(calls.map((call) => call.stepSlug).sort()).toEqual(['combine', 'double', 'fetch', 'square']);
    for (const call of calls) {
      expect(call).toMatchObject({
        runId: run.runId,
        flowSlug: 'chains_diamond',
        taskIndex: 0,
        attempt: 1,
        flowInput: { n: 2 },
        kind: 'single',
        aborted: false,
      });
      expect(call.signal).toBeInstanceOf(AbortSignal);
    }
    expect(calls[0]?.stepSlug).toBe('fetch');
    expect(calls.at(-1)?.stepSlug).toBe('combine');
  });

  it('stores undefined as null and keeps falsy outputs as they are', async () => {
    const { client } = await startApp();
    const run = await client.start(FalsyOutputsFlow, {});
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({
      zero: 0,
      no: false,
      empty: '',
      nothing: null,
      nothingAsync: null,
      explicitNull: null,
    });
    const snapshot = await client.getRun(run.runId);
    expect(Object.fromEntries(snapshot.steps.map((step) => [step.stepSlug, step.output]))).toEqual(done.output);
  });

  it('runs many runs of one flow side by side, each with its own input and output', async () => {
    const { client } = await startApp();
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => client.start(DiamondFlow, { n: i })));
    const outputs = await Promise.all(runs.map((run) => run.wait({ timeoutMs: 15_000 })));
    expect(outputs.map((done) => done.output)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ combine: 2 * i + i * i })),
    );
  });

  it("a step's slug option names it in dependencies, in its dependents' input and in the output", async () => {
    const { app, client } = await startApp();
    const run = await client.start(RenamedStepsFlow, { id: 9 });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ greeting: 'hi user 9' });
    expect(
      app
        .get(CallLog)
        .of('greeting', run.runId)
        .map((call) => call.input),
    ).toEqual([{ load_user: { id: 9, name: 'user 9' } }]);
    expect((await client.getRun(run.runId)).steps.map((step) => step.stepSlug)).toEqual(['load_user', 'greeting']);
  });

  it('wait() resolves with an output too large for a notification, in full', async () => {
    const { client } = await startApp();
    const run = await client.start(LargeOutputFlow, { size: 50_000 });
    const done = await run.wait({ timeoutMs: 10_000 });

    const output = done.output as { big: { text: string; rows: unknown[] } };
    expect(output.big.text).toHaveLength(50_000);
    expect(output.big.rows).toHaveLength(200);
  });
});
