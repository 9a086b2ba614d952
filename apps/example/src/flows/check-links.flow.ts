import { Flow, FlowSchedule, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';
import { type LinkCheck, LinkChecker } from '../services/link-checker.service.ts';

/** What `tally` outputs: the run's output is `{ tally: LinkTally }`. */
export interface LinkTally {
  readonly checked: number;
  readonly ok: number;
  readonly broken: string[];
  readonly external: number;
  readonly invalid: number;
}

/** The links the nightly schedule checks: the site's home and docs, and one that is gone. */
export const NIGHTLY_LINKS: readonly string[] = [
  'https://example.com/',
  'https://example.com/docs',
  'https://example.com/old-page',
];

/**
 * Checks a list of links: the run's input is an array of URLs, and `link`, a root map step, checks
 * each element in a task of its own (so the input must be an array: FlowClient.start() refuses
 * anything else with an InvalidRunInputError); `tally` counts the results.
 *
 * Its alias, `links`, is the name its versions share: `POST /runs` with `"flow": "links"` starts the
 * newest flow compiled under it. A changed structure ships as a new class, e.g. `@Flow({ slug:
 * 'check_links_v2', alias: 'links' })`, next to this one until its runs are done (README, "Changing a
 * flow in production").
 *
 * Every night at 03:00 UTC the `nightly_link_check` schedule checks the site's main links: once
 * across every replica of the app, and once for the nights the app was down (catchUp 'latest');
 * `GET /schedules` lists it, `POST /schedules/nightly_link_check/pause` holds it.
 */
@FlowSchedule('0 3 * * *', { name: 'nightly_link_check', input: NIGHTLY_LINKS, overlap: 'skip' })
@Flow({ slug: 'check_links', alias: 'links', maxAttempts: 3, baseDelay: 1, timeout: 10 })
export class CheckLinksFlow {
  constructor(private readonly linkChecker: LinkChecker) {}

  @Step({ map: true })
  link(url: string, _ctx: MapStepContext): LinkCheck {
    return this.linkChecker.check(url);
  }

  @Step({ dependsOn: ['link'] })
  tally(deps: StepInput<CheckLinksFlow, 'link'>): LinkTally {
    const count = (status: LinkCheck['status']): number => deps.link.filter((c) => c.status === status).length;
    return {
      checked: deps.link.length,
      ok: count('ok'),
      broken: deps.link.filter((check) => check.status === 'broken').map((check) => check.url),
      external: count('external'),
      invalid: count('invalid'),
    };
  }
}
