import { Flow, Step, type StepInput } from 'nestjs-pgflow';
import { type LinkCheck, LinkChecker } from '../services/link-checker.service.ts';

/** The run's input: the links to look at again, and when (ISO 8601; default: in one minute). */
export interface RecheckLinksInput {
  readonly urls: string[];
  readonly at?: string;
}

/**
 * Looks at links again later, e.g. the broken ones of a check_links run, once their site had time to
 * fix them. `plan` fixes the time; `recheck` sleeps until then (durable sleep: `delayUntil`). The
 * sleeping task holds no worker slot and survives restarts: stop the app during the sleep and start it
 * again, and the step still runs at its time, once.
 */
@Flow({ slug: 'recheck_links', maxAttempts: 3, baseDelay: 1, timeout: 10 })
export class RecheckLinksFlow {
  constructor(private readonly linkChecker: LinkChecker) {}

  @Step()
  plan(input: RecheckLinksInput): { urls: string[]; at: string } {
    const at = input.at === undefined ? new Date(Date.now() + 60_000) : new Date(input.at);
    return { urls: input.urls, at: at.toISOString() };
  }

  @Step({ dependsOn: ['plan'], delayUntil: (deps: StepInput<RecheckLinksFlow, 'plan'>) => new Date(deps.plan.at) })
  recheck(deps: StepInput<RecheckLinksFlow, 'plan'>): { checkedAt: string; checks: LinkCheck[] } {
    return { checkedAt: new Date().toISOString(), checks: deps.plan.urls.map((url) => this.linkChecker.check(url)) };
  }
}
