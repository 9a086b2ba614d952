/** The flows of the library benchmarks: no-op handlers, so that only the library's cost is measured. */
import { Flow, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';

/** When each run's first handler ran (epoch ms from performance.timeOrigin), for latency. */
export const firstHandlerAt = new Map<string, number>();

@Flow({ slug: 'bench_map', timeout: 120 })
export class BenchMapFlow {
  @Step({ map: true })
  item(value: number, _ctx: MapStepContext) {
    return value;
  }
}

@Flow({ slug: 'bench_map_reduce', timeout: 120 })
export class BenchMapReduceFlow {
  @Step({ map: true })
  item(value: number, _ctx: MapStepContext) {
    return value;
  }

  @Step({ dependsOn: ['item'] })
  total(deps: StepInput<BenchMapReduceFlow, 'item'>) {
    return deps.item.length;
  }
}

@Flow({ slug: 'bench_chain', timeout: 120 })
export class BenchChainFlow {
  @Step()
  a(input: { n: number }) {
    return input.n;
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<BenchChainFlow, 'a'>) {
    return deps.a + 1;
  }

  @Step({ dependsOn: ['b'] })
  c(deps: StepInput<BenchChainFlow, 'b'>) {
    return deps.b + 1;
  }
}

@Flow({ slug: 'bench_single', timeout: 120 })
export class BenchSingleFlow {
  @Step()
  only(input: { n: number }) {
    return input.n;
  }
}

@Flow({ slug: 'bench_latency_1', timeout: 120 })
export class LatencyOneStepFlow {
  @Step()
  only(_input: unknown, ctx: StepContext) {
    firstHandlerAt.set(ctx.runId, performance.now());
    return 1;
  }
}

@Flow({ slug: 'bench_latency_3', timeout: 120 })
export class LatencyThreeStepFlow {
  @Step()
  a(_input: unknown, ctx: StepContext) {
    firstHandlerAt.set(ctx.runId, performance.now());
    return 1;
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<LatencyThreeStepFlow, 'a'>) {
    return deps.a + 1;
  }

  @Step({ dependsOn: ['b'] })
  c(deps: StepInput<LatencyThreeStepFlow, 'b'>) {
    return deps.b + 1;
  }
}

export const benchFlows = [
  BenchMapFlow,
  BenchMapReduceFlow,
  BenchChainFlow,
  BenchSingleFlow,
  LatencyOneStepFlow,
  LatencyThreeStepFlow,
];
