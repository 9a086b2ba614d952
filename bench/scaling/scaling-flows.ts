/**
 * The flow of the scaling suite's waiting workload: one step whose handler waits (as a handler
 * waiting on I/O does) without using the CPU, and counts its calls. The no-op workload uses the
 * worker suite's BenchOneStepFlow, which counts its calls in the same counter.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Flow, Step } from 'nestjs-pgflow';
import { handled } from '../worker/throughput-flows.ts';

/** How long each handler of the waiting workload waits, ms. */
export const WAIT_MS = 20;

@Flow({ slug: 'bench_scaling_wait', timeout: 120 })
export class BenchWaitingFlow {
  @Step()
  async only(input: { n: number }) {
    await sleep(WAIT_MS);
    handled.count += 1;
    return input.n;
  }
}
