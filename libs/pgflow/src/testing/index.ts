export { PgflowTestingBuilder, PgflowTestingModule, type PgflowTestingOptions } from './pgflow-testing.module.ts';
export { PgflowTesting, type TestRunOptions } from './pgflow-testing.ts';
export type { StepReplacement } from './step-overrides.ts';
