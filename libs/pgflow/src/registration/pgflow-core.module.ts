import { Module } from '@nestjs/common';
import { FlowClient } from '../client/flow.client.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { PgflowDiscoveryModule } from '../discovery/pgflow-discovery.module.ts';
import { PgflowRegistrations } from './pgflow-registrations.ts';

/**
 * What every PgflowModule registration shares, once per application however many there are: the
 * discovered flows (FlowRegistry), the list of registrations and the application's FlowClient, which
 * routes each flow and run to its registration's database. Each registration imports and re-exports it.
 */
@Module({
  imports: [PgflowDiscoveryModule],
  providers: [
    PgflowRegistrations,
    {
      provide: FlowClient,
      inject: [FlowRegistry, PgflowRegistrations],
      useFactory: (registry: FlowRegistry, registrations: PgflowRegistrations) =>
        new FlowClient(registry, registrations),
    },
  ],
  exports: [PgflowRegistrations, FlowClient, PgflowDiscoveryModule],
})
export class PgflowCoreModule {}
