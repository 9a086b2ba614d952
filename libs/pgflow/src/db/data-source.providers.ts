import type { DynamicModule, FactoryProvider, Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { pgflowEntities } from '../entities/index.ts';
import { DataSourceNotFoundError } from '../errors/data-source-not-found.error.ts';
import { PgflowDatabase } from './pgflow-database.ts';

/**
 * The library's providers on the application's TypeORM DataSource (the one named `dataSourceName`,
 * the default one when undefined). Each injects the DataSource by its token, so that Nest creates
 * them after TypeORM connected, and optionally, so that a name the application does not register
 * gets a {@link DataSourceNotFoundError} listing the names it does register, whichever of them Nest
 * creates first, instead of Nest's error about an argument of an internal provider.
 */

/** The {@link PgflowDatabase} provider. */
export function pgflowDatabaseProvider(dataSourceName: string | undefined): Provider {
  return onDataSource(dataSourceName, {
    provide: PgflowDatabase,
    useFactory: (dataSource: DataSource) => new PgflowDatabase(dataSource),
  });
}

/**
 * TypeOrmModule.forFeature() of the library's entities: registers them with the DataSource (so that
 * `autoLoadEntities` users list nothing) and provides their repositories (`@InjectRepository(RunEntity)`),
 * each created as forFeature creates it.
 */
export function pgflowEntitiesModule(dataSourceName: string | undefined): DynamicModule {
  const feature = TypeOrmModule.forFeature([...pgflowEntities], dataSourceName);
  const providers = (feature.providers ?? []).map((provider) => {
    const { useFactory, provide } = provider as FactoryProvider;
    return onDataSource(dataSourceName, { provide, useFactory });
  });
  return { ...feature, providers, exports: providers.map((provider) => (provider as FactoryProvider).provide) };
}

function onDataSource(
  dataSourceName: string | undefined,
  provider: { provide: FactoryProvider['provide']; useFactory: (dataSource: DataSource) => unknown },
): FactoryProvider {
  return {
    provide: provider.provide,
    inject: [{ token: getDataSourceToken(dataSourceName), optional: true }, ModulesContainer],
    useFactory: (dataSource: DataSource | undefined, modules: ModulesContainer) => {
      if (dataSource === undefined) throw new DataSourceNotFoundError(dataSourceName, registeredDataSources(modules));
      return provider.useFactory(dataSource);
    },
  };
}

/**
 * The names of the DataSources the application registers, read from the providers' tokens:
 * @nestjs/typeorm registers the default DataSource under the DataSource class, and one named N
 * under the token 'NDataSource', next to its 'NEntityManager'.
 */
function registeredDataSources(modules: ModulesContainer): string[] {
  const names = new Set<string>();
  for (const module of modules.values()) {
    const tokens = new Set(module.providers.keys());
    for (const token of tokens) {
      if (token === DataSource) names.add('default');
      else if (typeof token === 'string' && token.endsWith('DataSource')) {
        const name = token.slice(0, -'DataSource'.length);
        if (tokens.has(`${name}EntityManager`)) names.add(name);
      }
    }
  }
  return [...names];
}
