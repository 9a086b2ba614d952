/**
 * How flows are assigned to PgflowModule registrations (one per TypeORM DataSource), and the boot
 * errors of a wiring that cannot work: two registrations on one DataSource, a flow in two
 * registrations or in none, a registration without flows among several, a worker serving another
 * registration's flow. Two databases of the harness's server stand for two servers here (the wiring
 * does not depend on where they are; several-databases.test.ts runs two servers). Nothing is written
 * to either database when the boot is refused.
 */
import {
  DuplicateRegistrationError,
  Flow,
  FlowAssignmentError,
  FlowNotFoundError,
  getFlowClientToken,
  PgflowModule,
  type PgflowModuleOptions,
  Step,
} from 'nestjs-pgflow';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.ts';
import { FAST_WORKER, typeOrmOn, useApps, withFastWorker } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'wiring_alpha', maxAttempts: 1 })
class AlphaFlow {
  @Step()
  only(input: { n: number }) {
    return input.n + 1;
  }
}

@Flow({ slug: 'wiring_beta', maxAttempts: 1 })
class BetaFlow {
  @Step()
  only(input: { n: number }) {
    return input.n * 2;
  }
}

const apps = useApps();
let one: TestDatabase;
let two: TestDatabase;

// Fresh databases for each test: what a refused boot leaves in them is its own doing.
beforeEach(async () => {
  [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});

/** An application with DataSources 'one' and 'two' and a PgflowModule registration per options given. */
function boot(registrations: PgflowModuleOptions[], providers: unknown[] = [AlphaFlow, BetaFlow]) {
  const [first, ...others] = registrations.map((options) => PgflowModule.forRoot(withFastWorker(options)));
  return apps.start({
    url: one.url,
    typeOrm: [typeOrmOn(one.url, 'one'), typeOrmOn(two.url, 'two')],
    pgflowModule: first,
    imports: others,
    providers: providers as never,
  });
}

async function bootError(registrations: PgflowModuleOptions[], providers?: unknown[]): Promise<Error> {
  const error = await boot(registrations, providers).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the application to refuse to boot');
  // Refused before the library compiled anything in either database.
  for (const db of [one, two]) expect(await db.query('select flow_slug from pgflow.flows')).toEqual([]);
  return error;
}

describe('assigning flows to registrations', () => {
  it('refuses two registrations on one DataSource, naming it', async () => {
    const error = await bootError([
      { dataSource: 'one', flows: [AlphaFlow] },
      { dataSource: 'one', flows: [BetaFlow] },
    ]);
    expect(error).toBeInstanceOf(DuplicateRegistrationError);
    expect(error).toMatchObject({ code: 'PGFLOW_DUPLICATE_REGISTRATION', dataSource: 'one' });
    expect(error.message).toMatch(/registered twice on the TypeORM DataSource 'one'.*once per DataSource/);
  });

  it('refuses a flow listed by two registrations, naming the flow and both', async () => {
    const error = await bootError([
      { dataSource: 'one', flows: [AlphaFlow, BetaFlow] },
      { dataSource: 'two', flows: ['wiring_beta'] },
    ]);
    expect(error).toBeInstanceOf(FlowAssignmentError);
    expect(error).toMatchObject({ problem: 'claimed_twice', flows: ['wiring_beta'] });
    expect(error.message).toMatch(/^Flow 'wiring_beta' \(class BetaFlow\) is in the flows of two .*registrations/);
    expect((error as FlowAssignmentError).registrations.toSorted()).toEqual(['one', 'two']);
  });

  it('refuses a discovered flow that no registration lists, naming it', async () => {
    @Flow({ slug: 'wiring_orphan' })
    class OrphanFlow {
      @Step()
      only() {}
    }
    const error = await bootError(
      [
        { dataSource: 'one', flows: [AlphaFlow] },
        { dataSource: 'two', flows: [BetaFlow] },
      ],
      [AlphaFlow, BetaFlow, OrphanFlow],
    );
    expect(error).toMatchObject({ problem: 'unclaimed', flows: ['wiring_orphan'], registrations: ['one', 'two'] });
    expect(error.message).toMatch(/^Flow 'wiring_orphan' \(class OrphanFlow\) is in the flows of no PgflowModule/);
  });

  it('refuses a registration without flows when there are several', async () => {
    const error = await bootError([{ dataSource: 'one', flows: [AlphaFlow, BetaFlow] }, { dataSource: 'two' }]);
    expect(error).toMatchObject({ problem: 'flows_missing', registrations: ['two'] });
    expect(error.message).toMatch(/registration on 'two' has no flows option.*dataSource: 'two'/);
  });

  it("refuses a worker that serves another registration's flow", async () => {
    const error = await bootError([
      { dataSource: 'one', flows: [AlphaFlow], worker: { ...FAST_WORKER, flows: [BetaFlow] } },
      { dataSource: 'two', flows: [BetaFlow] },
    ]);
    expect(error).toMatchObject({ problem: 'not_in_registration', flows: ['wiring_beta'] });
    expect(error.message).toMatch(/worker\.flows of .* on 'one' names flow 'wiring_beta'.*dataSource: 'two'/);
  });

  it('refuses a flows entry the application has no flow for', async () => {
    const error = await bootError([
      { dataSource: 'one', flows: [AlphaFlow, 'wiring_typo'] },
      { dataSource: 'two', flows: [BetaFlow] },
    ]);
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error.message).toMatch(/No flow with slug 'wiring_typo'/);
  });

  it('with one registration, takes every flow without a flows option, and refuses one its flows leave out', async () => {
    const { client } = await boot([{ dataSource: 'one' }]);
    await expect((await client.start(BetaFlow, { n: 4 })).wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      output: { only: 8 },
    });
    await apps.closeAll();
    const error = await boot([{ dataSource: 'two', flows: [AlphaFlow] }]).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ problem: 'unclaimed', flows: ['wiring_beta'] });
  });

  it("spreads one flow's work over two databases: a subclass per database, under its own slug", async () => {
    @Flow({ slug: 'wiring_alpha_two', maxAttempts: 1 })
    class AlphaInTwoFlow extends AlphaFlow {}
    const { client } = await boot(
      [
        { dataSource: 'one', flows: [AlphaFlow] },
        { dataSource: 'two', flows: [AlphaInTwoFlow] },
      ],
      [AlphaFlow, AlphaInTwoFlow],
    );
    const [inOne, inTwo] = await Promise.all([
      client.start(AlphaFlow, { n: 1 }),
      client.start(AlphaInTwoFlow, { n: 2 }),
    ]);
    await expect(inOne.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 2 } });
    await expect(inTwo.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 3 } });
    expect(await one.query('select run_id from pgflow.runs')).toEqual([{ run_id: inOne.runId }]);
    expect(await two.query('select run_id from pgflow.runs')).toEqual([{ run_id: inTwo.runId }]);
  });

  it('registers with forRootAsync (the DataSource given up front, the flows from the factory)', async () => {
    const { app, client } = await apps.start({
      url: one.url,
      typeOrm: [typeOrmOn(one.url, 'one'), typeOrmOn(two.url, 'two')],
      pgflowModule: PgflowModule.forRootAsync({
        dataSource: 'two',
        useFactory: async () => ({ dataSource: 'two', flows: [BetaFlow], worker: FAST_WORKER }),
      }),
      imports: [PgflowModule.forRoot({ dataSource: 'one', flows: [AlphaFlow], worker: FAST_WORKER })],
      providers: [AlphaFlow, BetaFlow],
    });
    const beta = await client.start(BetaFlow, { n: 21 });
    const alpha = await client.start('wiring_alpha', { n: 1 });
    await expect(beta.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 42 } });
    await expect(alpha.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 2 } });
    expect(await two.query('select run_id from pgflow.runs')).toEqual([{ run_id: beta.runId }]);
    expect(await one.query('select run_id from pgflow.runs')).toEqual([{ run_id: alpha.runId }]);
    expect(app.get(getFlowClientToken('two'))).not.toBe(client);
  });
});
