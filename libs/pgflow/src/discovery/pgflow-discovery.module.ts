import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FlowExplorer } from './flow.explorer.ts';
import { FlowRegistry } from './flow.registry.ts';
import { PgflowMetadataAccessor } from './pgflow-metadata.accessor.ts';

/**
 * Discovery of flows, for PgflowModule to import: provides and exports the {@link FlowRegistry}
 * (filled in `onModuleInit`), the {@link FlowExplorer} and the {@link PgflowMetadataAccessor}.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [PgflowMetadataAccessor, FlowExplorer, FlowRegistry],
  exports: [PgflowMetadataAccessor, FlowExplorer, FlowRegistry, DiscoveryModule],
})
export class PgflowDiscoveryModule {}
