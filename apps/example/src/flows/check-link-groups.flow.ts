import { Flow, type MapItem, type MapStepContext, Step, type StepInput, subflowInput } from 'nestjs-pgflow';
import { CheckLinksFlow } from './check-links.flow.ts';

/** The run's input: groups of links (e.g. one per section of a site). */
export interface CheckLinkGroupsInput {
  readonly groups: string[][];
}

/** What `summarize` outputs: the run's output is `{ summarize: LinkGroupsSummary }`. */
export interface LinkGroupsSummary {
  readonly groups: number;
  readonly checked: number;
  readonly broken: string[];
}

/**
 * Subflows: each group of links is checked by a run of its own of the `check_links` flow (a child run,
 * linked to this run: `GET /runs/:id` lists it under `children`). `group` is a map step with
 * `subflow`: one child run per group, which the step waits for without holding a worker; its output
 * is the children's outputs (`{ tally }`) in group order. A child run that fails fails that group's
 * attempt, and the retry starts a new child run.
 */
@Flow({ slug: 'check_link_groups', maxAttempts: 2, baseDelay: 1, timeout: 10 })
export class CheckLinkGroupsFlow {
  @Step()
  groups(input: CheckLinkGroupsInput): string[][] {
    return input.groups;
  }

  @Step({ dependsOn: ['groups'], map: true, subflow: CheckLinksFlow })
  group(urls: MapItem<CheckLinkGroupsFlow, 'groups'>, _ctx: MapStepContext) {
    return subflowInput(CheckLinksFlow, urls);
  }

  @Step({ dependsOn: ['group'] })
  summarize(deps: StepInput<CheckLinkGroupsFlow, 'group'>): LinkGroupsSummary {
    return {
      groups: deps.group.length,
      checked: deps.group.reduce((sum, child) => sum + (child.tally?.checked ?? 0), 0),
      broken: deps.group.flatMap((child) => child.tally?.broken ?? []),
    };
  }
}
