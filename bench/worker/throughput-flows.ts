/**
 * Flows of the library workloads that run in a worker process of their own (library.workloads.ts):
 * no-op handlers that count their calls, so that the workload knows when every handler has run
 * before it asks the database whether every run is complete.
 */
import { Flow, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';

/** Handler calls in this process. */
export const handled = { count: 0 };

@Flow({ slug: 'bench_one_step', timeout: 120 })
export class BenchOneStepFlow {
  @Step()
  only(input: { n: number }) {
    handled.count += 1;
    return input.n;
  }
}

@Flow({ slug: 'bench_map_reduce_10k', timeout: 120 })
export class BenchCountedMapReduceFlow {
  @Step({ map: true })
  item(value: number, _ctx: MapStepContext) {
    handled.count += 1;
    return value;
  }

  @Step({ dependsOn: ['item'] })
  total(deps: StepInput<BenchCountedMapReduceFlow, 'item'>) {
    handled.count += 1;
    return deps.item.length;
  }
}

@Flow({ slug: 'bench_chain_3', timeout: 120 })
export class BenchCountedChainFlow {
  @Step()
  a(input: { n: number }) {
    handled.count += 1;
    return input.n;
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<BenchCountedChainFlow, 'a'>) {
    handled.count += 1;
    return deps.a + 1;
  }

  @Step({ dependsOn: ['b'] })
  c(deps: StepInput<BenchCountedChainFlow, 'b'>) {
    handled.count += 1;
    return deps.b + 1;
  }
}

/** The wide diamond's parallel steps: root → branch_01 … branch_50 → join. */
export const DIAMOND_WIDTH = 50;
export const DIAMOND_BRANCHES: readonly string[] = Array.from(
  { length: DIAMOND_WIDTH },
  (_, i) => `branch_${String(i + 1).padStart(2, '0')}`,
);

@Flow({ slug: 'bench_diamond', timeout: 120 })
export class BenchDiamondFlow {
  @Step()
  root(input: { n: number }) {
    handled.count += 1;
    return input.n;
  }

  @Step({ dependsOn: [...DIAMOND_BRANCHES] })
  join(deps: Record<string, number>) {
    handled.count += 1;
    return Object.keys(deps).length;
  }
}

// Fifty identical steps, declared the way @Step() declares a method (writing them out would add
// nothing but length): each receives { root } and returns it.
for (const slug of DIAMOND_BRANCHES) {
  Object.defineProperty(BenchDiamondFlow.prototype, slug, {
    value: function branch(deps: { root: number }): number {
      handled.count += 1;
      return deps.root;
    },
    writable: true,
    configurable: true,
  });
  Step({ dependsOn: ['root'] })(
    BenchDiamondFlow.prototype,
    slug,
    Object.getOwnPropertyDescriptor(BenchDiamondFlow.prototype, slug) as PropertyDescriptor,
  );
}
