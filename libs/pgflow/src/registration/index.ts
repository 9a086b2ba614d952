export { PgflowCoreModule } from './pgflow-core.module.ts';
export { PgflowRegistration } from './pgflow-registration.ts';
export { PgflowRegistrations } from './pgflow-registrations.ts';
export { type RunRouter, singleRegistrationRouter } from './run-router.ts';
