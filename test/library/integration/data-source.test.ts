/**
 * PgflowModule on the application's TypeORM DataSource: the default one or one named in the
 * options, and the pgflow entities, registered so that autoLoadEntities users list nothing, usable
 * for the application's own queries.
 */
import { Injectable, Module } from '@nestjs/common';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import {
  Flow,
  PgflowModule,
  RunEntity,
  Step,
  type StepInput,
  StepStateEntity,
  StepTaskEntity,
  WorkerEntity,
} from 'nestjs-pgflow';
import { type DataSource, IsNull, type Repository } from 'typeorm';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '../../support/test-database.ts';
import { FAST_WORKER, typeOrmOn, useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'ds_pair', maxAttempts: 1 })
class PairFlow {
  @Step()
  left(input: { a: number }) {
    return input.a;
  }

  @Step({ dependsOn: ['left'] })
  right(deps: StepInput<PairFlow, 'left'>) {
    return deps.left + 1;
  }
}

/** An application service reading the engine's tables through repositories. */
@Injectable()
class RunReport {
  constructor(
    @InjectRepository(RunEntity) private readonly runs: Repository<RunEntity>,
    @InjectRepository(StepStateEntity) private readonly states: Repository<StepStateEntity>,
  ) {}

  run(runId: string): Promise<RunEntity | null> {
    return this.runs.findOneBy({ runId });
  }

  steps(runId: string): Promise<StepStateEntity[]> {
    return this.states.find({ where: { runId }, order: { stepSlug: 'ASC' } });
  }
}

@Module({ imports: [TypeOrmModule.forFeature([RunEntity, StepStateEntity])], providers: [RunReport] })
class ReportModule {}

/** The same service in a module that lists no entity: PgflowModule (global) provides the repositories. */
@Module({ providers: [RunReport] })
class BareReportModule {}

/** Reads the named data source, as a service of an application with two would. */
@Injectable()
class JobsProbe {
  constructor(@InjectDataSource('jobs') readonly jobs: DataSource) {}
}

const db = useTestDatabase();
const apps = useApps();

/** A second migrated database, for the application's other (default) DataSource. */
let other: TestDatabase;
beforeAll(async () => {
  other = await createTestDatabase();
});

describe('the DataSource PgflowModule uses', () => {
  it('uses the default DataSource when no dataSource is named', async () => {
    const { client } = await apps.start({ url: db.url, providers: [PairFlow] });
    const run = await client.start(PairFlow, { a: 1 });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { right: 2 } });
    expect(await db.query('select status from pgflow.runs where run_id = $1', [run.runId])).toEqual([
      { status: 'completed' },
    ]);
  });

  it('uses the DataSource named in the options, not the default one', async () => {
    const { app, client } = await apps.start({
      url: db.url,
      providers: [PairFlow, JobsProbe],
      typeOrm: [typeOrmOn(other.url), typeOrmOn(db.url, 'jobs')],
      pgflow: { dataSource: 'jobs' },
    });

    const run = await client.start(PairFlow, { a: 10 });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { right: 11 } });
    expect(await db.query('select 1 from pgflow.runs where run_id = $1', [run.runId])).toHaveLength(1);
    expect(await other.query('select 1 from pgflow.runs')).toEqual([]);
    expect(await other.query("select 1 from pgflow.flows where flow_slug = 'ds_pair'")).toEqual([]);
    expect(await app.get(JobsProbe).jobs.getRepository(RunEntity).countBy({ runId: run.runId })).toBe(1);
  });

  it('forRootAsync({ dataSource }) uses the named DataSource with options from a factory', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [PairFlow],
      typeOrm: [typeOrmOn(other.url), typeOrmOn(db.url, 'jobs')],
      pgflowModule: PgflowModule.forRootAsync({
        dataSource: 'jobs',
        useFactory: () => ({ dataSource: 'jobs', worker: FAST_WORKER }),
      }),
    });

    const run = await client.start(PairFlow, { a: 30 });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { right: 31 } });
    expect(await db.query('select 1 from pgflow.runs where run_id = $1', [run.runId])).toHaveLength(1);
    expect(await other.query('select 1 from pgflow.runs')).toEqual([]);
  });

  it('works with a named DataSource alone, without a default one', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [PairFlow],
      typeOrm: typeOrmOn(db.url, 'jobs'),
      pgflow: { dataSource: 'jobs' },
    });
    const run = await client.start(PairFlow, { a: 20 });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { right: 21 } });
  });
});

describe('the pgflow entities', () => {
  it('are registered with autoLoadEntities: dataSource.getRepository(RunEntity) reads the runs', async () => {
    const { client, dataSource } = await apps.start({ url: db.url, providers: [PairFlow] });
    const run = await client.start(PairFlow, { a: 3 });
    const done = await run.wait({ timeoutMs: 10_000 });

    const entity = await dataSource()
      .getRepository(RunEntity)
      .findOne({ where: { runId: run.runId }, relations: { stepStates: { tasks: true } } });
    expect(entity).toMatchObject({
      runId: run.runId,
      flowSlug: 'ds_pair',
      status: 'completed',
      input: { a: 3 },
      output: { right: 4 },
      remainingSteps: 0,
      completedAt: done.completedAt,
      failedAt: null,
    });
    expect(entity?.stepStates?.map((state) => [state.stepSlug, state.status, state.tasks?.length]).sort()).toEqual([
      ['left', 'completed', 1],
      ['right', 'completed', 1],
    ]);
    expect(await dataSource().getRepository(StepTaskEntity).countBy({ runId: run.runId })).toBe(2);
    expect(await dataSource().getRepository(WorkerEntity).countBy({ stoppedAt: IsNull() })).toBeGreaterThan(0);
  });

  it('are injectable with @InjectRepository without listing them in TypeOrmModule.forFeature', async () => {
    const { app, client } = await apps.start({ url: db.url, providers: [PairFlow], imports: [BareReportModule] });
    const run = await client.start(PairFlow, { a: 7 });
    await run.wait({ timeoutMs: 10_000 });

    expect(await app.get(RunReport).run(run.runId)).toMatchObject({ status: 'completed', output: { right: 8 } });
  });

  it('are injectable with @InjectRepository in the application’s own services', async () => {
    const { app, client } = await apps.start({ url: db.url, providers: [PairFlow], imports: [ReportModule] });
    const run = await client.start(PairFlow, { a: 5 });
    await run.wait({ timeoutMs: 10_000 });

    const report = app.get(RunReport);
    expect(await report.run(run.runId)).toMatchObject({ status: 'completed', output: { right: 6 } });
    expect((await report.steps(run.runId)).map((state) => [state.stepSlug, state.output])).toEqual([
      ['left', 5],
      ['right', 6],
    ]);
  });
});
