/**
 * Two versions of one flow under one alias, for the versioning test (test/reliability/versioning.test.ts):
 * a worker deployment has one of them (RELIABILITY_FLOW `order_v1` or `order_v2`). The v1 handler
 * records its execution, then waits until the file RELIABILITY_GATE_FILE exists (when set), so that
 * a test holds v1's runs in flight while it deploys v2.
 */
import { existsSync } from 'node:fs';
import { Flow, Step, type StepContext } from 'nestjs-pgflow';
import { ExecutionLog } from './reliability-flows.ts';

/** The alias both versions are compiled under; callers start runs by it. */
export const ORDER_ALIAS = 'rel_order';

export interface OrderInput {
  readonly n: number;
}

/** Resolves once the gate file exists (at once when no gate is set). */
async function gate(): Promise<void> {
  const file = process.env.RELIABILITY_GATE_FILE;
  while (file !== undefined && file !== '' && !existsSync(file)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Version 1: one attempt (any failure fails the run), a timeout longer than any test holds it. */
@Flow({ slug: 'rel_order_v1', alias: ORDER_ALIAS, maxAttempts: 1, timeout: 600 })
export class OrderV1Flow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async place(input: OrderInput, ctx: StepContext): Promise<{ n: number; version: string }> {
    await this.log.record(ctx);
    await gate();
    return { n: input.n, version: 'v1' };
  }
}

/** Version 2: another step structure (a second step), under the same alias. */
@Flow({ slug: 'rel_order_v2', alias: ORDER_ALIAS, maxAttempts: 1, timeout: 600 })
export class OrderV2Flow {
  constructor(private readonly log: ExecutionLog) {}

  @Step()
  async place(input: OrderInput, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return input.n;
  }

  @Step({ dependsOn: ['place'] })
  async confirm(deps: { place: number }, ctx: StepContext): Promise<{ n: number; version: string }> {
    await this.log.record(ctx);
    return { n: deps.place, version: 'v2' };
  }
}
