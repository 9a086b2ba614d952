/**
 * The mistakes a new application makes, each stopped (or reported) with an error that names the
 * problem and the fix: migrations not applied, a dataSource name the application does not register,
 * a flow provider that is not a singleton, runs started for a flow no worker serves.
 */
import { Injectable, Scope } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  DataSourceNotFoundError,
  Flow,
  InvalidFlowDefinitionError,
  MigrationsNotAppliedError,
  PgflowModule,
  pgflowMigrations,
  Step,
} from 'nestjs-pgflow';
import { createTestDatabase, useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { FAST_WORKER, useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'misconf_echo', maxAttempts: 1 })
class EchoFlow {
  @Step()
  echo(input: { n: number }) {
    return input.n;
  }
}

@Flow({ slug: 'misconf_other', maxAttempts: 1 })
class OtherFlow {
  @Step()
  only() {
    return 'done';
  }
}

@Injectable({ scope: Scope.REQUEST })
@Flow({ slug: 'misconf_request_scoped' })
class RequestScopedFlow {
  @Step()
  only() {
    return 1;
  }
}

@Injectable({ scope: Scope.REQUEST })
class CurrentUser {}

@Flow({ slug: 'misconf_implicitly_request_scoped' })
class ImplicitlyRequestScopedFlow {
  constructor(readonly user: CurrentUser) {}

  @Step()
  only() {
    return 1;
  }
}

const db = useTestDatabase();
const apps = useApps();

/** What a failing boot threw. */
function bootError(start: Promise<unknown>): Promise<unknown> {
  return start.then(
    () => new Error('expected the application to refuse to boot'),
    (error: unknown) => error,
  );
}

/** TypeORM registered but never connected: a boot that fails while Nest creates providers leaves no connection. */
function unconnectedTypeOrm(name?: string) {
  return TypeOrmModule.forRoot({
    type: 'postgres',
    url: db.url,
    manualInitialization: true,
    ...(name === undefined ? {} : { name }),
  });
}

describe('migrations not applied', () => {
  it('stops the boot with MigrationsNotAppliedError saying how to apply them, on a database without the pgflow schema', async () => {
    const empty = await createTestDatabase({ migrated: false });

    const error = await bootError(apps.start({ url: empty.url, providers: [EchoFlow] }));

    expect(error).toBeInstanceOf(MigrationsNotAppliedError);
    expect(error).toMatchObject({ code: 'PGFLOW_MIGRATIONS_NOT_APPLIED', database: empty.name });
    expect((error as MigrationsNotAppliedError).missing).toEqual(
      pgflowMigrations.map((migration) => new migration().name),
    );
    const { message } = error as Error;
    expect(message).toContain(`The database '${empty.name}' has no schema pgflow`);
    expect(message).toContain('migrations: [...pgflowMigrations], migrationsRun: true');
    expect(message).toContain('typeorm migration:run');
    expect(await empty.query("select 1 from pg_namespace where nspname = 'pgflow'")).toEqual([]);
  });

  it("names the library's migrations TypeORM's table does not list (an upgrade deployed without migrating)", async () => {
    const behind = await createTestDatabase();
    await behind.query("delete from migrations where name = 'Engine1764150100000'");

    const error = await bootError(apps.start({ url: behind.url, providers: [EchoFlow] }));

    expect(error).toBeInstanceOf(MigrationsNotAppliedError);
    expect(error).toMatchObject({ missing: ['Engine1764150100000'] });
    expect((error as Error).message).toContain(
      `The database '${behind.name}' lacks a migration of this version of nestjs-pgflow: Engine1764150100000`,
    );
  });

  it('says in the log that the migrations are applied', async () => {
    const { logger } = await apps.start({ url: db.url, providers: [EchoFlow] });
    expect(logger.logs).toContainEqual([
      `Database '${db.name}' ready: the ${pgflowMigrations.length} migrations of nestjs-pgflow are applied ` +
        `(latest: ${new (pgflowMigrations.at(-1) as new () => { name: string })().name}).`,
      'PgflowModule',
    ]);
  });
});

describe('a dataSource the application does not register', () => {
  it('names the given name, the registered ones and the fix, instead of Nest dependency error', async () => {
    const error = await bootError(
      apps.start({
        url: db.url,
        typeOrm: unconnectedTypeOrm('jobs'),
        providers: [EchoFlow],
        pgflow: { dataSource: 'jbos' },
      }),
    );

    expect(error).toBeInstanceOf(DataSourceNotFoundError);
    expect(error).toMatchObject({ code: 'PGFLOW_DATA_SOURCE_NOT_FOUND', dataSource: 'jbos', registered: ['jobs'] });
    expect((error as Error).message).toBe(
      "PgflowModule's dataSource option names the TypeORM DataSource 'jbos', but none of that name is registered. " +
        "The application registers: 'jobs'. Use one of them in PgflowModule's dataSource option (the name given to " +
        "TypeOrmModule.forRoot({ name })), or register a DataSource named 'jbos'.",
    );
  });

  it('says so when only named DataSources exist and PgflowModule asks for the default one', async () => {
    const error = await bootError(
      apps.start({ url: db.url, typeOrm: unconnectedTypeOrm('jobs'), providers: [EchoFlow] }),
    );

    expect(error).toBeInstanceOf(DataSourceNotFoundError);
    expect(error).toMatchObject({ dataSource: undefined, registered: ['jobs'] });
    expect((error as Error).message).toMatch(
      /default TypeORM DataSource .*none is registered.*forRoot\(\{ dataSource \}\)/,
    );
  });

  it('says so with forRootAsync, and when no DataSource is registered at all', async () => {
    const error = await bootError(
      apps.start({
        url: db.url,
        typeOrm: [],
        providers: [EchoFlow],
        pgflowModule: PgflowModule.forRootAsync({ dataSource: 'jobs', useFactory: () => ({ dataSource: 'jobs' }) }),
      }),
    );

    expect(error).toBeInstanceOf(DataSourceNotFoundError);
    expect(error).toMatchObject({ dataSource: 'jobs', registered: [] });
    expect((error as Error).message).toMatch(/registers no DataSource: import TypeOrmModule\.forRoot/);
  });
});

describe('a flow provider that is not a singleton', () => {
  it.each([
    ['RequestScopedFlow', RequestScopedFlow, /has request scope \(Scope\.REQUEST/],
    [
      'ImplicitlyRequestScopedFlow',
      ImplicitlyRequestScopedFlow,
      /has request scope \(Scope\.REQUEST, or a dependency on a request-scoped provider\)/,
    ],
  ])('stops the boot, naming the class: %s', async (_name, flowClass, scope) => {
    const error = await bootError(apps.start({ url: db.url, providers: [flowClass, CurrentUser, EchoFlow] }));

    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error).toMatchObject({ flowClass: flowClass.name, problems: [{ code: 'FLOW_NOT_SINGLETON' }] });
    expect((error as Error).message).toMatch(scope);
    expect((error as Error).message).toContain(`the provider of ${flowClass.name} has`);
    expect((error as Error).message).toContain('flows must be singleton-scoped');
  });
});

describe('runs started for a flow no worker serves', () => {
  const unserved = (flowSlug: string) => (warning: unknown[]) =>
    String(warning[0]).startsWith(`No running worker serves flow '${flowSlug}'`);

  it('warns once per flow and process, however many runs are started', async () => {
    const api = await apps.start({ url: db.url, providers: [EchoFlow], pgflow: { worker: { enabled: false } } });

    await api.client.start(EchoFlow, { n: 1 });
    await api.client.startMany(EchoFlow, [{ n: 2 }, { n: 3 }]);
    await waitFor(() => api.logger.warnings.some(unserved('misconf_echo')), { description: 'the warning' });
    await api.client.start(EchoFlow, { n: 4 });
    await api.client.getRun((await api.client.start(EchoFlow, { n: 5 })).runId);

    expect(api.logger.warnings.filter(unserved('misconf_echo'))).toEqual([
      [
        expect.stringContaining(
          'its runs wait in the queue until one starts. Start a process whose PgflowModule has the worker enabled',
        ),
        'FlowClient',
      ],
    ]);
  });

  it('does not warn for a flow a live worker serves; a stopped worker serves nothing', async () => {
    const worker = await apps.start({
      url: db.url,
      providers: [EchoFlow, OtherFlow],
      pgflow: { worker: { flows: [EchoFlow] } },
    });
    const api = await apps.start({
      url: db.url,
      providers: [EchoFlow, OtherFlow],
      pgflow: { worker: { enabled: false } },
    });

    await (await api.client.start(EchoFlow, { n: 1 })).wait({ timeoutMs: 10_000 });
    await api.client.start(OtherFlow, {});
    await waitFor(() => api.logger.warnings.some(unserved('misconf_other')), { description: 'the warning' });
    expect(api.logger.warnings.filter(unserved('misconf_echo'))).toEqual([]);

    await worker.close();
    const later = await apps.start({
      url: db.url,
      providers: [EchoFlow, OtherFlow],
      pgflow: { worker: { enabled: false, ...FAST_WORKER } },
    });
    await later.client.start(EchoFlow, { n: 2 });
    await waitFor(() => later.logger.warnings.some(unserved('misconf_echo')), { description: 'the warning' });
  });
});
