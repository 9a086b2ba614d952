/**
 * The flows of the soak (test/reliability/soak.test.ts), served by the worker child process with
 * RELIABILITY_FLOW=soak: a chain, a diamond, a map over 1,000 items, a step that fails its first
 * attempt, and conditional branches. The handlers only compute (no I/O of their own), so the soak
 * measures the engine; each run's output follows from its input ({@link expectedSoakOutput}), which
 * is how the soak tells a right completion from a wrong one.
 */
import { Flow, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';

/** Retries at once; a task stalled in a live worker comes back after 30 s + 30 s. */
const OPTIONS = { maxAttempts: 3, baseDelay: 0, timeout: 30 } as const;

export interface SoakInput {
  readonly n: number;
  /** The map flow's array length. */
  readonly size?: number;
}

@Flow({ slug: 'soak_chain', ...OPTIONS })
export class SoakChainFlow {
  @Step()
  first(input: SoakInput): number {
    return input.n + 1;
  }

  @Step({ dependsOn: ['first'] })
  second(deps: StepInput<SoakChainFlow, 'first'>): number {
    return deps.first * 2;
  }

  @Step({ dependsOn: ['second'] })
  third(deps: StepInput<SoakChainFlow, 'second'>): number {
    return deps.second + 3;
  }
}

@Flow({ slug: 'soak_diamond', ...OPTIONS })
export class SoakDiamondFlow {
  @Step()
  top(input: SoakInput): number {
    return input.n;
  }

  @Step({ dependsOn: ['top'] })
  left(deps: StepInput<SoakDiamondFlow, 'top'>): number {
    return deps.top * 2;
  }

  @Step({ dependsOn: ['top'] })
  right(deps: StepInput<SoakDiamondFlow, 'top'>): number {
    return deps.top * 3;
  }

  @Step({ dependsOn: ['left', 'right'] })
  join(deps: StepInput<SoakDiamondFlow, 'left' | 'right'>): number {
    return deps.left + deps.right;
  }
}

@Flow({ slug: 'soak_map', ...OPTIONS })
export class SoakMapFlow {
  @Step()
  split(input: SoakInput): number[] {
    return Array.from({ length: input.size ?? 0 }, (_, i) => input.n + i);
  }

  @Step({ dependsOn: ['split'], map: true })
  square(item: number, _ctx: MapStepContext): number {
    return item * item;
  }

  @Step({ dependsOn: ['square'] })
  total(deps: StepInput<SoakMapFlow, 'square'>): number {
    return deps.square.reduce((sum, value) => sum + value, 0);
  }
}

/** The first attempt of `flaky` always throws: every run goes through a retry. */
@Flow({ slug: 'soak_retry', ...OPTIONS })
export class SoakRetryFlow {
  @Step()
  flaky(input: SoakInput, ctx: StepContext): number {
    if (ctx.attempt === 1) throw new Error(`soak: first attempt of run ${ctx.runId} fails on purpose`);
    return input.n * 10;
  }

  @Step({ dependsOn: ['flaky'] })
  after(deps: StepInput<SoakRetryFlow, 'flaky'>): number {
    return deps.flaky + 1;
  }
}

/** One of the two branches runs (by the parity of n), the other is skipped; `join` sees one key. */
@Flow({ slug: 'soak_condition', ...OPTIONS })
export class SoakConditionFlow {
  @Step()
  check(input: SoakInput): { even: boolean; n: number } {
    return { even: input.n % 2 === 0, n: input.n };
  }

  @Step({ dependsOn: ['check'], if: { check: { even: true } } })
  evenBranch(deps: StepInput<SoakConditionFlow, 'check'>): number {
    return deps.check.n * 2;
  }

  @Step({ dependsOn: ['check'], ifNot: { check: { even: true } } })
  oddBranch(deps: StepInput<SoakConditionFlow, 'check'>): number {
    return deps.check.n * 3;
  }

  @Step({ dependsOn: ['evenBranch', 'oddBranch'] })
  join(deps: Partial<StepInput<SoakConditionFlow, 'evenBranch' | 'oddBranch'>>): number {
    return (deps.evenBranch ?? 0) + (deps.oddBranch ?? 0);
  }
}

export const SOAK_FLOWS = [SoakChainFlow, SoakDiamondFlow, SoakMapFlow, SoakRetryFlow, SoakConditionFlow];

export type SoakFlowSlug = 'soak_chain' | 'soak_diamond' | 'soak_map' | 'soak_retry' | 'soak_condition';

/** What a run of `slug` must output for `input`, and how many tasks it completes. */
export function expectedSoakOutput(slug: SoakFlowSlug, input: SoakInput): { output: unknown; tasks: number } {
  const { n, size = 0 } = input;
  switch (slug) {
    case 'soak_chain':
      return { output: { third: (n + 1) * 2 + 3 }, tasks: 3 };
    case 'soak_diamond':
      return { output: { join: 5 * n }, tasks: 4 };
    case 'soak_map': {
      let total = 0;
      for (let i = 0; i < size; i += 1) total += (n + i) * (n + i);
      return { output: { total }, tasks: size + 2 };
    }
    case 'soak_retry':
      return { output: { after: n * 10 + 1 }, tasks: 2 };
    case 'soak_condition':
      return { output: { join: n % 2 === 0 ? 2 * n : 3 * n }, tasks: 3 };
  }
}
