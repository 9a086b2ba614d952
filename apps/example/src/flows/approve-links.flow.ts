import { Flow, type SignalStepContext, Step, type StepInput } from 'nestjs-pgflow';

/** The run's input: links someone proposes to publish. */
export interface ApproveLinksInput {
  readonly urls: string[];
}

/** What a reviewer sends: `POST /runs/:id/signals/approval` with this body. */
export interface LinkApproval {
  readonly approved: boolean;
  readonly reviewer: string;
}

/**
 * A human in the loop: `propose` lists the links, `review` waits for a reviewer's decision (a
 * signal step: no worker waits with it, across restarts, for up to a day), and `publish` publishes
 * the links if they were approved. The decision arrives as the `approval` signal:
 * `POST /runs/:id/signals/approval` with `{ "approved": true, "reviewer": "ana" }`.
 */
@Flow({ slug: 'approve_links', maxAttempts: 3, baseDelay: 1, timeout: 10 })
export class ApproveLinksFlow {
  @Step()
  propose(input: ApproveLinksInput): { urls: string[] } {
    return { urls: input.urls };
  }

  @Step({ dependsOn: ['propose'], signal: 'approval', timeout: 24 * 3600 })
  review(
    approval: LinkApproval,
    ctx: SignalStepContext<StepInput<ApproveLinksFlow, 'propose'>>,
  ): { approved: boolean; reviewer: string; urls: string[] } {
    if (typeof approval?.approved !== 'boolean' || typeof approval.reviewer !== 'string') {
      // A malformed decision fails this attempt; the run keeps its signal, so fix the flow, not the run.
      throw new TypeError(`An approval is { approved: boolean, reviewer: string }, got ${JSON.stringify(approval)}.`);
    }
    return { approved: approval.approved, reviewer: approval.reviewer, urls: ctx.deps.propose.urls };
  }

  @Step({ dependsOn: ['review'] })
  publish(deps: StepInput<ApproveLinksFlow, 'review'>): { published: string[] } {
    return { published: deps.review.approved ? deps.review.urls : [] };
  }
}
