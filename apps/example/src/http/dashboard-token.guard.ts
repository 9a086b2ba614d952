import { timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';

/**
 * The example's guard of the pgflow dashboard: HTTP Basic authentication with any user name and the
 * token of PGFLOW_DASHBOARD_TOKEN as the password (the browser asks for it). Without a token the
 * dashboard refuses everyone. A real application puts its own admin guard here.
 */
export class DashboardTokenGuard implements CanActivate {
  constructor(private readonly token: string | undefined) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined> }>();
    if (this.token === undefined) {
      throw new ForbiddenException('The dashboard is disabled: start the example with PGFLOW_DASHBOARD_TOKEN set.');
    }
    const [scheme, encoded] = (request.headers.authorization ?? '').split(' ');
    const password = scheme === 'Basic' && encoded !== undefined ? passwordOf(encoded) : undefined;
    if (password !== undefined && sameText(password, this.token)) return true;
    http
      .getResponse<{ setHeader(name: string, value: string): void }>()
      .setHeader('WWW-Authenticate', 'Basic realm="pgflow dashboard", charset="UTF-8"');
    throw new UnauthorizedException('The dashboard needs the token of PGFLOW_DASHBOARD_TOKEN as the password.');
  }
}

function passwordOf(encoded: string): string | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
