export { type DiscoveredFlow, FlowExplorer } from './flow.explorer.ts';
export { FlowRegistry } from './flow.registry.ts';
export { PgflowDiscoveryModule } from './pgflow-discovery.module.ts';
export { type FlowClassMetadata, PgflowMetadataAccessor, type StepMethodMetadata } from './pgflow-metadata.accessor.ts';
