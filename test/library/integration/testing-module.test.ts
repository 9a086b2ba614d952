/**
 * PgflowTestingModule, the helper users test their flows with: one call runs a flow to its output
 * against a real database; steps are replaced on the builder (before the worker takes a task) or on
 * the running application (until restoreSteps()); bad arguments are refused naming the fix.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  InvalidOptionsError,
  type MapStepContext,
  type PgflowTesting,
  PgflowTestingModule,
  RunFailedError,
  Step,
  type StepContext,
  type StepInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { typeOrmOn } from '../fixtures/pgflow-app.ts';

@Injectable()
class PriceList {
  price(sku: string): number {
    return sku.length * 10;
  }
}

@Flow({ slug: 'testing_order', maxAttempts: 1 })
class OrderFlow {
  constructor(private readonly prices: PriceList) {}

  @Step()
  items(input: { skus: string[] }) {
    return input.skus;
  }

  @Step({ dependsOn: ['items'], map: true })
  priced(sku: string, ctx: MapStepContext) {
    return { sku, price: this.prices.price(sku), index: ctx.taskIndex };
  }

  @Step({ dependsOn: ['priced'] })
  total(deps: StepInput<OrderFlow, 'priced'>, _ctx: StepContext) {
    return deps.priced.reduce((sum, line) => sum + line.price, 0);
  }
}

const db = useTestDatabase();
const opened: PgflowTesting[] = [];
afterEach(async () => {
  for (const testing of opened.splice(0)) await testing.close();
});

async function compile(build: ReturnType<typeof PgflowTestingModule.create>): Promise<PgflowTesting> {
  const testing = await build.compile();
  opened.push(testing);
  return testing;
}

describe('PgflowTestingModule', () => {
  it('runs a flow to its completed run in one call, typed from its leaf steps', async () => {
    const testing = await compile(PgflowTestingModule.create({ database: db.url, providers: [OrderFlow, PriceList] }));

    const done = await testing.run(OrderFlow, { skus: ['a', 'bcd'] });

    const total: number | undefined = done.output.total;
    expect(total).toBe(40);
    expect(done).toMatchObject({ status: 'completed', input: { skus: ['a', 'bcd'] }, flowSlug: 'testing_order' });
    expect(testing.get(PriceList)).toBeInstanceOf(PriceList);
  });

  it('replaces a step from the builder, before the worker takes any task', async () => {
    const testing = await compile(
      PgflowTestingModule.create({ database: db.url, providers: [OrderFlow, PriceList] }).overrideStep(
        OrderFlow,
        'priced',
        (sku, ctx) => ({ sku, price: 1, index: ctx.taskIndex }),
      ),
    );

    await expect(testing.run(OrderFlow, { skus: ['a', 'b', 'c'] })).resolves.toMatchObject({ output: { total: 3 } });
  });

  it('replaces a step of the running application until restoreSteps()', async () => {
    const testing = await compile(
      // The failing replacement below is logged as an error: nothing to print.
      PgflowTestingModule.create({ database: db.url, providers: [OrderFlow, PriceList], logger: false }),
    );

    testing.overrideStep(OrderFlow, 'total', async (deps) => deps.priced.length * 1000);
    await expect(testing.run(OrderFlow, { skus: ['a', 'b'] })).resolves.toMatchObject({ output: { total: 2000 } });

    testing.overrideStep(OrderFlow, 'total', () => {
      throw new Error('ledger offline');
    });
    const failed = await testing.run(OrderFlow, { skus: ['a'] }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect(failed).toMatchObject({ stepSlug: 'total', errorMessage: 'ledger offline' });

    testing.restoreSteps();
    await expect(testing.run(OrderFlow, { skus: ['a', 'b'] })).resolves.toMatchObject({ output: { total: 20 } });
  });

  it('works with the application own TypeORM module instead of `database`', async () => {
    const testing = await compile(
      PgflowTestingModule.create({ imports: [typeOrmOn(db.url)], providers: [OrderFlow, PriceList] }),
    );
    await expect(testing.run(OrderFlow, { skus: [] })).resolves.toMatchObject({ output: { total: 0 } });
  });

  it('refuses an unknown step, naming the flow steps, and a handler that is not a function', async () => {
    const testing = await compile(PgflowTestingModule.create({ database: db.url, providers: [OrderFlow, PriceList] }));

    // @ts-expect-error: 'price' is not a step of OrderFlow
    const unknownStep = catchError(() => testing.overrideStep(OrderFlow, 'price', () => 1));
    expect(unknownStep).toBeInstanceOf(InvalidOptionsError);
    expect(unknownStep.message).toBe(
      "Invalid overrideStep() argument step: \"price\". Expected a step of OrderFlow: 'items', 'priced', 'total'.",
    );
    const notAFunction = catchError(() =>
      // @ts-expect-error: a handler is a function
      PgflowTestingModule.create({ database: db.url }).overrideStep(OrderFlow, 'total', 42),
    );
    expect(notAFunction.message).toMatch(
      /overrideStep\(\) argument handler: 42\. Expected \(input, context\) => output/,
    );
    expect(catchError(() => PgflowTestingModule.create({ database: '' })).message).toMatch(
      /PgflowTestingModule\.create\(\) option database: "".*PostgreSQL connection URL/,
    );
  });

  it('refuses an unknown step given to the builder when it compiles, starting nothing', async () => {
    const build = PgflowTestingModule.create({ database: db.url, providers: [OrderFlow, PriceList] }).overrideStep(
      OrderFlow,
      'totl' as 'total',
      () => 0,
    );
    await expect(build.compile()).rejects.toThrow(/Expected a step of OrderFlow: 'items', 'priced', 'total'/);
    expect(await db.query('select 1 from pgflow.workers where stopped_at is null')).toEqual([]);
  });
});

function catchError(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an error');
}
