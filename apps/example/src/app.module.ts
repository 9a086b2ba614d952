import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PgflowDashboardModule, PgflowModule, pgflowMigrations } from 'nestjs-pgflow';
import { PgflowHealthIndicator } from 'nestjs-pgflow/health';
import { EXAMPLE_OPTIONS, type ExampleOptions, resolveExampleOptions } from './example.options.ts';
import { AnalyzeWebsiteFlow } from './flows/analyze-website.flow.ts';
import { ApproveLinksFlow } from './flows/approve-links.flow.ts';
import { CheckLinkGroupsFlow } from './flows/check-link-groups.flow.ts';
import { CheckLinksFlow } from './flows/check-links.flow.ts';
import { FetchTitleFlow } from './flows/fetch-title.flow.ts';
import { RecheckLinksFlow } from './flows/recheck-links.flow.ts';
import { TenantReportFlow } from './flows/tenant-report.flow.ts';
import { DashboardTokenGuard } from './http/dashboard-token.guard.ts';
import { FlowsController } from './http/flows.controller.ts';
import { HealthController } from './http/health.controller.ts';
import { PgflowExceptionFilter } from './http/pgflow-exception.filter.ts';
import { RunOperationsController } from './http/run-operations.controller.ts';
import { RunsController } from './http/runs.controller.ts';
import { SchedulesController } from './http/schedules.controller.ts';
import { KeywordExtractor } from './services/keyword-extractor.service.ts';
import { LinkChecker } from './services/link-checker.service.ts';
import { PageFetcher } from './services/page-fetcher.service.ts';
import { ReportStore } from './services/report-store.service.ts';
import { Summarizer } from './services/summarizer.service.ts';

/**
 * The example application: TypeORM on the given database with the library's migrations, PgflowModule
 * (a worker and the FlowClient), its flows and the services they use, the HTTP API, its health check
 * (TerminusModule with PgflowHealthIndicator) and the pgflow dashboard at /pgflow.
 */
@Module({})
export class AppModule {
  static forRoot(options: ExampleOptions): DynamicModule {
    const resolved = resolveExampleOptions(options);
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: resolved.databaseUrl,
          // PgflowModule registers its entities; autoLoadEntities picks them up.
          autoLoadEntities: true,
          migrations: [...pgflowMigrations],
          migrationsRun: resolved.migrationsRun,
          migrationsTransactionMode: 'each',
          // Fail at once with the driver's error (main.ts says what to check) rather than retrying,
          // and logging a stack trace, for half a minute.
          toRetry: () => false,
        }),
        PgflowModule.forRoot({
          ...(resolved.worker === undefined ? {} : { worker: resolved.worker }),
          // Ended runs older than this are deleted by the worker, a small batch at a time.
          retention: resolved.retention,
        }),
        TerminusModule.forRoot(),
        // The dashboard at /pgflow, behind the token of PGFLOW_DASHBOARD_TOKEN.
        PgflowDashboardModule.forRoot({ path: '/pgflow', guard: new DashboardTokenGuard(resolved.dashboardToken) }),
      ],
      controllers: [RunsController, RunOperationsController, FlowsController, SchedulesController, HealthController],
      providers: [
        { provide: EXAMPLE_OPTIONS, useValue: resolved },
        { provide: APP_FILTER, useClass: PgflowExceptionFilter },
        PgflowHealthIndicator,
        PageFetcher,
        Summarizer,
        KeywordExtractor,
        LinkChecker,
        ReportStore,
        AnalyzeWebsiteFlow,
        CheckLinksFlow,
        RecheckLinksFlow,
        ApproveLinksFlow,
        CheckLinkGroupsFlow,
        FetchTitleFlow,
        TenantReportFlow,
      ],
    };
  }
}
