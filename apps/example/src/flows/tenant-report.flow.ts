import { Flow, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { type LinkCheck, LinkChecker } from '../services/link-checker.service.ts';

/** The input of a run: whose report, and the links of theirs to check. */
export interface TenantReportInput {
  readonly tenant: string;
  readonly urls: string[];
}

/** What `report` outputs: the run's output is `{ report: TenantReport }`. */
export interface TenantReport {
  readonly tenant: string;
  readonly checked: number;
  readonly ok: number;
  readonly broken: string[];
}

/**
 * A report on one tenant's links, for a multi-tenant service: `links` checks the tenant's links and
 * `report` sums them up. At most 2 runs per tenant are in progress at once, across every replica of
 * the app (the engine keeps the count per key): a tenant that asks for 50 reports does not take every
 * worker slot from the others. A third run of a tenant waits for a slot (`GET /runs/:id` shows
 * `waitingForSlot: true`) and starts when one of the tenant's runs ends, first come first served
 * (higher priority first); another tenant's runs start at once.
 */
@Flow({
  slug: 'tenant_report',
  maxAttempts: 3,
  baseDelay: 1,
  timeout: 10,
  concurrencyKey: (input: TenantReportInput) => input.tenant,
  concurrency: 2,
})
export class TenantReportFlow {
  constructor(private readonly linkChecker: LinkChecker) {}

  @Step()
  links(input: TenantReportInput): LinkCheck[] {
    return input.urls.map((url) => this.linkChecker.check(url));
  }

  @Step({ dependsOn: ['links'] })
  report(deps: StepInput<TenantReportFlow, 'links'>, ctx: StepContext<TenantReportInput>): TenantReport {
    return {
      tenant: ctx.flowInput.tenant,
      checked: deps.links.length,
      ok: deps.links.filter((check) => check.status === 'ok').length,
      broken: deps.links.filter((check) => check.status === 'broken').map((check) => check.url),
    };
  }
}
