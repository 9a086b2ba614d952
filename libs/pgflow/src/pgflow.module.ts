import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowClient } from './client/flow.client.ts';
import { WorkerPresenceCheck } from './client/worker-presence.check.ts';
import { FlowCompiler } from './compilation/flow-compiler.service.ts';
import { pgflowDatabaseProvider, pgflowEntitiesModule } from './db/data-source.providers.ts';
import { MigrationsCheck } from './db/migrations.check.ts';
import { NotificationListener } from './db/notification-listener.ts';
import { PgflowDiscoveryModule } from './discovery/pgflow-discovery.module.ts';
import { InvalidOptionsError } from './errors/invalid-options.error.ts';
import { FlowEventDispatcher } from './events/flow-event-dispatcher.ts';
import { PGFLOW_MODULE_OPTIONS, PGFLOW_RAW_OPTIONS } from './pgflow.constants.ts';
import {
  assertValidAsyncOptions,
  type PgflowModuleAsyncOptions,
  type PgflowModuleOptions,
  type PgflowOptionsFactory,
  resolvePgflowOptions,
} from './pgflow-options.ts';
import { PgflowWorker } from './worker/pgflow-worker.service.ts';

/** The providers every registration shares. */
function coreProviders(dataSourceName: string | undefined): Provider[] {
  return [
    pgflowDatabaseProvider(dataSourceName),
    NotificationListener,
    MigrationsCheck,
    FlowCompiler,
    PgflowWorker,
    WorkerPresenceCheck,
    FlowClient,
    FlowEventDispatcher,
  ];
}

// FlowRegistry comes with PgflowDiscoveryModule, exported whole.
const exportedProviders = [FlowClient, PgflowWorker, PGFLOW_MODULE_OPTIONS, PgflowDiscoveryModule];

/**
 * Durable DAG workflows in PostgreSQL for a Nest application. Import it once, next to
 * TypeOrmModule.forRoot(); it is global. It discovers every `@Flow()` provider, compiles the flows at
 * bootstrap, runs a worker (unless `worker.enabled` is false) and provides {@link FlowClient}.
 */
@Module({})
export class PgflowModule {
  static forRoot(options: PgflowModuleOptions = {}): DynamicModule {
    const resolved = resolvePgflowOptions(options);
    return {
      module: PgflowModule,
      global: true,
      imports: [PgflowDiscoveryModule, pgflowEntitiesModule(resolved.dataSource)],
      providers: [{ provide: PGFLOW_MODULE_OPTIONS, useValue: resolved }, ...coreProviders(resolved.dataSource)],
      exports: [...exportedProviders, TypeOrmModule],
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
      imports: [...(options.imports ?? []), PgflowDiscoveryModule, pgflowEntitiesModule(options.dataSource)],
      providers: [
        rawOptions,
        resolvedOptions,
        ...(options.useClass ? [options.useClass] : []),
        ...coreProviders(options.dataSource),
      ],
      exports: [...exportedProviders, TypeOrmModule],
    };
  }
}
