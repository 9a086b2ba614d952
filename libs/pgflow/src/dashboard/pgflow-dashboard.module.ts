import { Controller, type DynamicModule, Module, UseGuards } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.ts';
import { PGFLOW_DASHBOARD_OPTIONS, type PgflowDashboardOptions, resolveDashboardOptions } from './dashboard-options.ts';
import { DashboardQueries } from './dashboard-queries.ts';
import { RunUpdates } from './run-updates.ts';

/**
 * A web dashboard of the application's flows and runs, served by the application itself (Express):
 * flows with their run counts and paused state, runs with filters and pages, each run's DAG updating
 * live, and the actions cancel / retry / pause / resume. Import it next to PgflowModule:
 *
 *   PgflowDashboardModule.forRoot({ path: '/pgflow', guard: AdminGuard, readOnly: false })
 *
 * The guard protects every route of the dashboard; without one, anyone who reaches the application
 * sees its runs' inputs and outputs.
 */
@Module({})
export class PgflowDashboardModule {
  static forRoot(options: PgflowDashboardOptions = {}): DynamicModule {
    const resolved = resolveDashboardOptions(options);
    // A class per mount: its path and guard are metadata of the class, the routes those of the base.
    class PgflowDashboardController extends DashboardController {}
    Controller(resolved.path)(PgflowDashboardController);
    if (resolved.guard !== undefined) UseGuards(resolved.guard)(PgflowDashboardController);
    return {
      module: PgflowDashboardModule,
      controllers: [PgflowDashboardController],
      providers: [{ provide: PGFLOW_DASHBOARD_OPTIONS, useValue: resolved }, DashboardQueries, RunUpdates],
    };
  }
}
