export type { PgflowDashboardOptions } from './dashboard-options.ts';
export { PgflowDashboardModule } from './pgflow-dashboard.module.ts';
