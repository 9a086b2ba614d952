import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowClient } from './client/flow.client.ts';
import { WorkerPresenceCheck } from './client/worker-presence.check.ts';
import { FlowCompiler } from './compilation/flow-compiler.service.ts';
import { pgflowDatabaseProvider, pgflowEntitiesModule } from './db/data-source.providers.ts';
import { MigrationsCheck } from './db/migrations.check.ts';
import { NotificationListener } from './db/notification-listener.ts';
import { PgflowDatabase } from './db/pgflow-database.ts';
import { FlowRegistry } from './discovery/flow.registry.ts';
import { InvalidOptionsError } from './errors/invalid-options.error.ts';
import { FlowEventDispatcher } from './events/flow-event-dispatcher.ts';
import { PgflowHealth } from './health/pgflow-health.service.ts';
import {
  getFlowClientToken,
  getPgflowWorkerToken,
  PGFLOW_MODULE_OPTIONS,
  PGFLOW_RAW_OPTIONS,
} from './pgflow.constants.ts';
import {
  assertValidAsyncOptions,
  type PgflowModuleAsyncOptions,
  type PgflowModuleOptions,
  type PgflowOptionsFactory,
  resolvePgflowOptions,
} from './pgflow-options.ts';
import { PgflowCoreModule } from './registration/pgflow-core.module.ts';
import { PgflowRegistration } from './registration/pgflow-registration.ts';
import { PgflowRegistrations } from './registration/pgflow-registrations.ts';
import { singleRegistrationRouter } from './registration/run-router.ts';
import { PgflowRetention } from './retention/pgflow-retention.service.ts';
import { PgflowWorker } from './worker/pgflow-worker.service.ts';

/**
 * The providers of one registration, on DataSource `dataSourceName`: its own database access, LISTEN
 * connection, migrations check, compiler, worker and FlowClient, local to the registration's module
 * except for the tokens named after its DataSource.
 */
function registrationProviders(dataSourceName: string | undefined): Provider[] {
  return [
    pgflowDatabaseProvider(dataSourceName),
    NotificationListener,
    MigrationsCheck,
    FlowCompiler,
    PgflowWorker,
    PgflowRetention,
    WorkerPresenceCheck,
    PgflowHealth,
    {
      provide: PgflowRegistration,
      inject: [
        PgflowRegistrations,
        PGFLOW_MODULE_OPTIONS,
        PgflowDatabase,
        NotificationListener,
        FlowCompiler,
        WorkerPresenceCheck,
      ],
      useFactory: (
        registrations: PgflowRegistrations,
        ...parts: ConstructorParameters<typeof PgflowRegistration>
      ): PgflowRegistration => registrations.add(new PgflowRegistration(...parts)),
    },
    {
      provide: getFlowClientToken(dataSourceName),
      inject: [FlowRegistry, PgflowRegistration],
      useFactory: (registry: FlowRegistry, registration: PgflowRegistration) =>
        new FlowClient(registry, singleRegistrationRouter(registration)),
    },
    { provide: getPgflowWorkerToken(dataSourceName), useExisting: PgflowWorker },
    FlowEventDispatcher,
  ];
}

/**
 * What a registration exports (it is global): the shared core (FlowClient, FlowRegistry), its worker,
 * health check and options (the only ones with a single registration), and its tokens named after its DataSource.
 */
function registrationExports(dataSourceName: string | undefined): DynamicModule['exports'] {
  return [
    PgflowCoreModule,
    PgflowWorker,
    PgflowHealth,
    PGFLOW_MODULE_OPTIONS,
    getFlowClientToken(dataSourceName),
    getPgflowWorkerToken(dataSourceName),
    TypeOrmModule,
  ];
}

/**
 * Durable DAG workflows in PostgreSQL for a Nest application. Import it next to
 * TypeOrmModule.forRoot(); it is global. It discovers every `@Flow()` provider, compiles the flows at
 * bootstrap, runs a worker (unless `worker.enabled` is false) and provides {@link FlowClient}.
 *
 * Several databases: import it once per TypeORM DataSource (`dataSource`), each with the `flows`
 * whose runs live there. Each registration has its own worker, compiler, listener and database
 * access; the one FlowClient routes each flow and run to its registration's database, and
 * `@InjectFlowClient(dataSource)` injects the client of one registration.
 */
@Module({})
export class PgflowModule {
  static forRoot(options: PgflowModuleOptions = {}): DynamicModule {
    const resolved = resolvePgflowOptions(options);
    return {
      module: PgflowModule,
      global: true,
      imports: [PgflowCoreModule, pgflowEntitiesModule(resolved.dataSource)],
      providers: [
        { provide: PGFLOW_MODULE_OPTIONS, useValue: resolved },
        ...registrationProviders(resolved.dataSource),
      ],
      exports: registrationExports(resolved.dataSource),
    };
  }

  /**
   * Options from a factory (`useFactory` + `inject`), a class (`useClass`) or an existing provider
   * (`useExisting`) implementing PgflowOptionsFactory. A named DataSource must also be given here as
   * `dataSource`, because the entities are registered with it before any factory runs.
   */
  static forRootAsync(options: PgflowModuleAsyncOptions & { readonly dataSource?: string }): DynamicModule {
    assertValidAsyncOptions(options);
    const factoryClass = options.useClass ?? options.useExisting;
    const rawOptions: Provider = options.useFactory
      ? { provide: PGFLOW_RAW_OPTIONS, useFactory: options.useFactory, inject: [...(options.inject ?? [])] }
      : {
          provide: PGFLOW_RAW_OPTIONS,
          useFactory: (factory: PgflowOptionsFactory) => factory.createPgflowOptions(),
          inject: [factoryClass as NonNullable<typeof factoryClass>],
        };
    const resolvedOptions: Provider = {
      provide: PGFLOW_MODULE_OPTIONS,
      inject: [PGFLOW_RAW_OPTIONS],
      useFactory: (raw: PgflowModuleOptions | undefined) => {
        const resolved = resolvePgflowOptions(raw ?? {});
        if (resolved.dataSource !== options.dataSource) {
          throw new InvalidOptionsError(
            'dataSource',
            resolved.dataSource,
            `the same DataSource name in the factory's options as in forRootAsync({ dataSource }) ` +
              `(got '${options.dataSource ?? 'default'}' there)`,
          );
        }
        return resolved;
      },
    };
    return {
      module: PgflowModule,
      global: true,
      imports: [...(options.imports ?? []), PgflowCoreModule, pgflowEntitiesModule(options.dataSource)],
      providers: [
        rawOptions,
        resolvedOptions,
        ...(options.useClass ? [options.useClass] : []),
        ...registrationProviders(options.dataSource),
      ],
      exports: registrationExports(options.dataSource),
    };
  }
}
