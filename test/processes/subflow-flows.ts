/**
 * The subflow flows of the reliability tests (RELIABILITY_FLOW=subflows in worker-process.ts): a
 * parent maps over its items with a subflow step, one child run per item, and sums the children's
 * outputs. Handlers record their executions like the fanout flow's (ExecutionLog), so that a test
 * tells executions from completions. Timeouts are small (2 s): a task whose worker died is requeued
 * quickly.
 */
import {
  Flow,
  type MapItem,
  type MapStepContext,
  Step,
  type StepContext,
  type StepInput,
  subflowInput,
} from 'nestjs-pgflow';
import { ExecutionLog, type FanoutInput } from './reliability-flows.ts';

export const SUBFLOW_PARENT_SLUG = 'rel_sub_parent';
export const SUBFLOW_CHILD_SLUG = 'rel_sub_child';

/** One child run per item: squares it. */
@Flow({ slug: SUBFLOW_CHILD_SLUG, maxAttempts: 3, baseDelay: 0, timeout: 2 })
export class SubflowChildFlow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async square(input: { item: number }, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return input.item * input.item;
  }
}

/** split → delegate (one child run per item) → total: the same output as the fanout flow. */
@Flow({ slug: SUBFLOW_PARENT_SLUG, maxAttempts: 3, baseDelay: 0, timeout: 2 })
export class SubflowParentFlow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async split(input: FanoutInput, ctx: StepContext): Promise<number[]> {
    await this.log.record(ctx);
    return input.items;
  }

  @Step({ dependsOn: ['split'], map: true, subflow: SubflowChildFlow })
  async delegate(item: MapItem<SubflowParentFlow, 'split'>, ctx: MapStepContext) {
    await this.log.record(ctx);
    return subflowInput(SubflowChildFlow, { item });
  }

  @Step({ dependsOn: ['delegate'] })
  async total(deps: StepInput<SubflowParentFlow, 'delegate'>, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return deps.delegate.reduce((sum, child) => sum + (child.square ?? 0), 0);
  }
}
