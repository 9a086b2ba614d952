/**
 * The flows of the concurrency-limit tests (test/reliability/concurrency-limits.test.ts), served by
 * the worker child process with RELIABILITY_FLOW=concurrency: a per-key limit (2 runs in progress per
 * tenant), a flow limit (3 tasks at once) and a step limit (2 tasks of one map step at once, next to
 * an unlimited map step). Handlers record their executions and wait RELIABILITY_DELAY_MS
 * (ExecutionLog), so that a test sees how many run at once. Timeouts are small (2 s): a task whose
 * worker died is requeued quickly.
 */
import { Flow, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { ExecutionLog } from './reliability-flows.ts';

export const PER_KEY_SLUG = 'rel_conc_per_key';
export const FLOW_LIMIT_SLUG = 'rel_conc_flow';
export const STEP_LIMIT_SLUG = 'rel_conc_step';

/** The limits, for the tests' assertions. */
export const PER_KEY_LIMIT = 2;
export const FLOW_LIMIT = 3;
export const STEP_LIMIT = 2;

const OPTIONS = { maxAttempts: 3, baseDelay: 0, timeout: 2 } as const;

export interface TenantInput {
  readonly tenant: string;
  readonly n: number;
}

/** At most 2 runs in progress per tenant; a run over it waits for a slot of its tenant. */
@Flow({
  slug: PER_KEY_SLUG,
  ...OPTIONS,
  concurrencyKey: (input: TenantInput) => input.tenant,
  concurrency: PER_KEY_LIMIT,
})
export class PerKeyLimitedFlow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async work(input: TenantInput, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return input.n;
  }
}

/** At most 3 tasks of the flow started at once, across every worker. */
@Flow({ slug: FLOW_LIMIT_SLUG, ...OPTIONS, concurrency: FLOW_LIMIT })
export class FlowLimitedFlow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async work(input: { n: number }, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return input.n;
  }
}

/** split → limited (a map step, at most 2 tasks at once) and free (a map step without a limit). */
@Flow({ slug: STEP_LIMIT_SLUG, ...OPTIONS })
export class StepLimitedFlow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async split(input: { items: number[] }, ctx: StepContext): Promise<number[]> {
    await this.log.record(ctx);
    return input.items;
  }

  @Step({ dependsOn: ['split'], map: true, concurrency: STEP_LIMIT })
  async limited(item: number, ctx: MapStepContext): Promise<number> {
    await this.log.record(ctx);
    return item * 2;
  }

  @Step({ dependsOn: ['split'], map: true })
  async free(item: number, ctx: MapStepContext): Promise<number> {
    await this.log.record(ctx);
    return item * 3;
  }

  @Step({ dependsOn: ['limited', 'free'] })
  async total(deps: StepInput<StepLimitedFlow, 'limited' | 'free'>, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return [...deps.limited, ...deps.free].reduce((sum, value) => sum + value, 0);
  }
}

export const CONCURRENCY_FLOWS = [PerKeyLimitedFlow, FlowLimitedFlow, StepLimitedFlow];
