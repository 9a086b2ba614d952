import type { CanActivate, Type } from '@nestjs/common';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';

/** Options of `PgflowDashboardModule.forRoot()`. */
export interface PgflowDashboardOptions {
  /** Where the dashboard is mounted in the application's HTTP routes ['/pgflow']. */
  readonly path?: string;
  /**
   * Protects every route of the dashboard (pages, live updates, actions): a Nest guard class (Nest
   * creates it in the dashboard's module: what it injects must be global) or an instance [none:
   * anyone who reaches the application].
   */
  readonly guard?: CanActivate | Type<CanActivate>;
  /** Show no action buttons and refuse the action routes with 403 [false]. */
  readonly readOnly?: boolean;
}

/** The options with their defaults, checked. */
export interface ResolvedDashboardOptions {
  readonly path: string;
  readonly guard: CanActivate | Type<CanActivate> | undefined;
  readonly readOnly: boolean;
}

export const PGFLOW_DASHBOARD_OPTIONS = Symbol('PGFLOW_DASHBOARD_OPTIONS');

const SUBJECT = { subject: 'PgflowDashboardModule option' };
const KNOWN = new Set(['path', 'guard', 'readOnly']);
/** One or more segments of URL-safe characters, no trailing slash: '/pgflow', '/admin/flows'. */
const PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

/** Checks the options at boot: a wrong one stops the application with the option, its value and the fix. */
export function resolveDashboardOptions(options: PgflowDashboardOptions = {}): ResolvedDashboardOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('options', options, 'an object such as { path, guard, readOnly }', SUBJECT);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new InvalidOptionsError(
        key,
        (options as Record<string, unknown>)[key],
        'no such option (path, guard or readOnly)',
        SUBJECT,
      );
  }
  const { path = '/pgflow', guard, readOnly = false } = options;
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new InvalidOptionsError(
      'path',
      path,
      "a URL path that starts with '/' and has no trailing slash, of letters, digits and . _ ~ - (e.g. '/pgflow')",
      SUBJECT,
    );
  }
  if (guard !== undefined && !isGuard(guard)) {
    throw new InvalidOptionsError(
      'guard',
      guard,
      'a Nest guard: a class implementing CanActivate (with a canActivate() method), or an instance of one',
      SUBJECT,
    );
  }
  if (typeof readOnly !== 'boolean') {
    throw new InvalidOptionsError('readOnly', readOnly, 'true or false', SUBJECT);
  }
  return { path, guard, readOnly };
}

function isGuard(guard: unknown): guard is CanActivate | Type<CanActivate> {
  if (typeof guard === 'function') return typeof (guard.prototype as Partial<CanActivate>)?.canActivate === 'function';
  return (
    typeof guard === 'object' && guard !== null && typeof (guard as Partial<CanActivate>).canActivate === 'function'
  );
}
