/**
 * A Nest application with PgflowModule, the test flows and the dashboard, listening on a free port
 * of 127.0.0.1 (closed after each test by useApps).
 */
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { PgflowDashboardModule, type PgflowDashboardOptions } from 'nestjs-pgflow';
import type { TestApp, TestApps } from '../../library/fixtures/pgflow-app.ts';
import { DASHBOARD_TEST_FLOWS } from './dashboard-flows.ts';

export const DASHBOARD_TOKEN = 'let-me-in';

/** Lets a request in when it carries the token header: what an application's admin guard does. */
export class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers['x-dashboard-token'] === DASHBOARD_TOKEN;
  }
}

export interface DashboardApp extends TestApp {
  /** The dashboard's URL: `http://127.0.0.1:<port>/pgflow`. */
  readonly url: string;
}

export async function startDashboardApp(
  apps: TestApps,
  databaseUrl: string,
  dashboard: PgflowDashboardOptions = {},
): Promise<DashboardApp> {
  const testApp = await apps.start({
    url: databaseUrl,
    providers: DASHBOARD_TEST_FLOWS,
    imports: [PgflowDashboardModule.forRoot(dashboard)],
  });
  await testApp.app.listen(0, '127.0.0.1');
  const address = testApp.app.getHttpServer().address() as { port: number };
  return Object.assign(testApp, { url: `http://127.0.0.1:${address.port}${dashboard.path ?? '/pgflow'}` });
}
