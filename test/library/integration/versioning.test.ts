/**
 * Versions of a flow under an alias (`@Flow({ slug: 'x_v2', alias: 'x' })`): FlowClient.start and
 * startMany by the alias start the newest version compiled under it, by class or by slug the version
 * named; getRun says which version ran. The alias is checked at boot (slug rules, not its own slug,
 * not another flow's slug, in the code or in the database), and a client with several databases
 * routes the alias to the database of its flows.
 */
import {
  Flow,
  FlowAssignmentError,
  FlowNotFoundError,
  InvalidFlowDefinitionError,
  PgflowModule,
  Step,
  type StepContext,
} from 'nestjs-pgflow';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.ts';
import { typeOrmOn, useApps, withFastWorker } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'ver_order_v1', alias: 'ver_order', maxAttempts: 1 })
class OrderV1Flow {
  @Step()
  place(input: { item: string }, ctx: StepContext) {
    return { item: input.item, version: ctx.flowSlug };
  }
}

@Flow({ slug: 'ver_order_v2', alias: 'ver_order', maxAttempts: 1 })
class OrderV2Flow {
  @Step()
  place(input: { item: string }, ctx: StepContext) {
    return { item: input.item.toUpperCase(), version: ctx.flowSlug };
  }
}

@Flow({ slug: 'ver_other', maxAttempts: 1 })
class OtherFlow {
  @Step()
  only() {
    return 1;
  }
}

const apps = useApps();
let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

async function bootError(providers: unknown[]): Promise<Error> {
  const error = await apps.start({ url: db.url, providers: providers as never }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the application to refuse to boot');
  return error;
}

describe('starting by alias', () => {
  it('starts the newest version; by class or slug, the version named; getRun says which ran', async () => {
    const first = await apps.start({ url: db.url, providers: [OrderV1Flow] });
    const before = await first.client.start('ver_order', { item: 'pen' });
    expect(before.flowSlug).toBe('ver_order_v1');
    await expect(before.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      output: { place: { item: 'pen', version: 'ver_order_v1' } },
    });
    await first.close();

    // The next deployment has both versions; v2 is compiled now, so it is the newest.
    const { client } = await apps.start({ url: db.url, providers: [OrderV1Flow, OrderV2Flow] });
    const byAlias = await client.start('ver_order', { item: 'ink' });
    expect(byAlias.flowSlug).toBe('ver_order_v2');
    await expect(byAlias.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      flowSlug: 'ver_order_v2',
      output: { place: { item: 'INK', version: 'ver_order_v2' } },
    });
    expect(await client.getRun(byAlias.runId)).toMatchObject({ flowSlug: 'ver_order_v2', alias: 'ver_order' });
    expect(await client.getRun(before.runId)).toMatchObject({ flowSlug: 'ver_order_v1', alias: 'ver_order' });

    const many = await client.startMany('ver_order', [{ item: 'a' }, { item: 'b' }]);
    expect(many.map((run) => run.flowSlug)).toEqual(['ver_order_v2', 'ver_order_v2']);
    expect((await client.start(OrderV1Flow, { item: 'old' })).flowSlug).toBe('ver_order_v1');
    expect((await client.start('ver_order_v1', { item: 'old' })).flowSlug).toBe('ver_order_v1');
  });

  it('a name that is neither a slug nor an alias is refused, saying so', async () => {
    const { client } = await apps.start({ url: db.url, providers: [OrderV1Flow] });
    const error = await client.start('ver_nothing', {}).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect((error as Error).message).toMatch(/ver_nothing[\s\S]*slug or alias/);
  });
});

describe('the alias at boot', () => {
  it('refuses an alias that breaks the slug rules, or is its own slug', async () => {
    @Flow({ slug: 'ver_bad', alias: 'my-order' })
    class BadAliasFlow {
      @Step()
      only() {}
    }
    @Flow({ slug: 'ver_self', alias: 'ver_self' })
    class SelfAliasFlow {
      @Step()
      only() {}
    }
    const bad = await bootError([BadAliasFlow]);
    expect(bad).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((bad as InvalidFlowDefinitionError).problems).toMatchObject([{ code: 'INVALID_FLOW_ALIAS' }]);
    expect(bad.message).toMatch(/@Flow\(\{ alias \}\) 'my-order' is not a valid slug/);
    const self = await bootError([SelfAliasFlow]);
    expect((self as InvalidFlowDefinitionError).problems).toMatchObject([{ code: 'INVALID_FLOW_ALIAS' }]);
    expect(self.message).toMatch(/own slug 'ver_self'.*slug: 'ver_self_v2', alias: 'ver_self'/);
    expect(await db.query('select flow_slug from pgflow.flows')).toEqual([]);
  });

  it("refuses an alias that is another flow's slug, in the code or in the database", async () => {
    @Flow({ slug: 'ver_taken_v2', alias: 'ver_other' })
    class TakenAliasFlow {
      @Step()
      only() {}
    }
    const inCode = await bootError([OtherFlow, TakenAliasFlow]);
    expect((inCode as InvalidFlowDefinitionError).problems).toMatchObject([{ code: 'FLOW_NAME_TAKEN' }]);
    expect(inCode.message).toMatch(/alias: 'ver_other' \}\) is the slug of flow OtherFlow/);

    await (await apps.start({ url: db.url, providers: [OtherFlow] })).close();
    const inDatabase = await bootError([TakenAliasFlow]);
    expect(inDatabase).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((inDatabase as InvalidFlowDefinitionError).problems).toMatchObject([{ code: 'FLOW_NAME_TAKEN' }]);
    expect(inDatabase.message).toMatch(/'ver_other'.*'ver_taken_v2'|'ver_taken_v2'.*'ver_other'/);
    expect(await db.query(`select flow_slug from pgflow.flows where flow_slug = 'ver_taken_v2'`)).toEqual([]);
  });
});

describe('several databases', () => {
  let two: TestDatabase;
  beforeEach(async () => {
    two = await createTestDatabase();
  });

  function boot(providers: unknown[], flowsOne: unknown[], flowsTwo: unknown[]) {
    return apps.start({
      url: db.url,
      typeOrm: [typeOrmOn(db.url, 'one'), typeOrmOn(two.url, 'two')],
      pgflowModule: PgflowModule.forRoot(withFastWorker({ dataSource: 'one', flows: flowsOne as never })),
      imports: [PgflowModule.forRoot(withFastWorker({ dataSource: 'two', flows: flowsTwo as never }))],
      providers: providers as never,
    });
  }

  it('routes a start by alias to the database of the flows under it', async () => {
    const { client } = await boot([OtherFlow, OrderV1Flow, OrderV2Flow], [OtherFlow], [OrderV1Flow, OrderV2Flow]);
    const run = await client.start('ver_order', { item: 'cap' });
    expect(run.flowSlug).toBe('ver_order_v2');
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { place: { item: 'CAP' } } });
    expect(await two.query('select flow_slug from pgflow.runs')).toEqual([{ flow_slug: 'ver_order_v2' }]);
    expect(await db.query('select flow_slug from pgflow.runs')).toEqual([]);
  });

  it('refuses versions under one alias in two registrations', async () => {
    const error = await boot([OtherFlow, OrderV1Flow, OrderV2Flow], [OtherFlow, OrderV1Flow], [OrderV2Flow]).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(FlowAssignmentError);
    expect(error).toMatchObject({ problem: 'alias_split', flows: ['ver_order_v1', 'ver_order_v2'] });
    expect((error as Error).message).toMatch(/share alias 'ver_order'/);
  });
});
