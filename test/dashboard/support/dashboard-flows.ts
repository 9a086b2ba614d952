/**
 * Flows for the dashboard's tests: a three-step chain whose middle step waits for a gate the test
 * opens, so that a test sees a run in progress and then a step complete; its first step outputs
 * markup that must show as text.
 */
import { Injectable } from '@nestjs/common';
import { Flow, FlowSchedule, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { Gate } from '../../library/fixtures/recorders.ts';

/** The gate of the `held` step: a new one per test (reset()). */
@Injectable()
export class HeldGate {
  gate = new Gate();

  reset(): void {
    this.gate = new Gate();
  }
}

/** The output of the first step: it must appear as text, never run. */
export const SCRIPT_OUTPUT = '<script>window.__injected = true</script><b>bold?</b>';

@Flow({ slug: 'dash_held', maxAttempts: 1 })
export class HeldFlow {
  constructor(private readonly gates: HeldGate) {}

  @Step()
  first(_input: { n: number }) {
    return { note: SCRIPT_OUTPUT };
  }

  /** Waits for the gate, or ends with the run's cancellation. */
  @Step({ dependsOn: ['first'] })
  held(_deps: StepInput<HeldFlow, 'first'>, ctx: StepContext) {
    return new Promise((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      void this.gates.gate.opened.then(() => resolve('released'));
    });
  }

  @Step({ dependsOn: ['held'] })
  last(deps: StepInput<HeldFlow, 'held'>) {
    return `after ${deps.held}`;
  }
}

/** A daily schedule: the flows page lists it (it does not fire during a test). */
@FlowSchedule('0 3 * * *', { name: 'dash_nightly', timeZone: 'Europe/Paris' })
@Flow({ slug: 'dash_quick', maxAttempts: 1 })
export class QuickFlow {
  @Step()
  only(input: { n: number }) {
    return input.n * 2;
  }
}

export const DASHBOARD_TEST_FLOWS = [HeldGate, HeldFlow, QuickFlow];
