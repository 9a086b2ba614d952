import type { INestApplicationContext, Type } from '@nestjs/common';
import { FlowClient } from '../client/flow.client.ts';
import type { CompletedRun } from '../client/run.types.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { FlowInput, FlowOutput, StepKey } from '../types/flow-types.ts';
import { checkOverride, type StepOverrider, type StepReplacement } from './step-overrides.ts';

/** Options of {@link PgflowTesting.run}. */
export interface TestRunOptions {
  /** Reject with WaitTimeoutError after this many milliseconds [10000]. */
  readonly timeoutMs?: number;
}

const DEFAULT_RUN_TIMEOUT_MS = 10_000;

/**
 * A running test application with PgflowModule and a worker, made by
 * `PgflowTestingModule.create(...).compile()`: run a flow and get its output in one call, replace
 * steps, reach any provider. Close it after the tests (`await testing.close()`).
 */
export class PgflowTesting {
  constructor(
    /** The Nest application context. */
    readonly app: INestApplicationContext,
    private readonly overrider: StepOverrider,
  ) {}

  /** The application's FlowClient, for anything beyond run() (start, wait, getRun, watch ...). */
  get client(): FlowClient {
    return this.app.get(FlowClient);
  }

  /** A provider of the application, from any module. */
  get<T>(token: Type<T> | string | symbol): T {
    return this.app.get<T>(token, { strict: false });
  }

  /**
   * Starts a run of `flow` with `input` and waits for it: resolves with the completed run (its
   * `output` typed from the flow's leaf steps), rejects with RunFailedError (`stepSlug`,
   * `errorMessage`) when it fails, or WaitTimeoutError after `timeoutMs`.
   */
  async run<F extends object>(
    flow: FlowClass<F> | string,
    input: FlowInput<F>,
    options: TestRunOptions = {},
  ): Promise<CompletedRun<FlowOutput<F>, FlowInput<F>>> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new InvalidOptionsError('timeoutMs', timeoutMs, 'a number of milliseconds, 0 or more', {
        subject: 'PgflowTesting.run() option',
      });
    }
    const handle = await this.client.start(flow, input);
    return handle.wait({ timeoutMs });
  }

  /**
   * Replaces step `step` (its method name) of `flow` from the next task on, like Nest's
   * overrideProvider for one method; {@link restoreSteps} puts the original back.
   */
  overrideStep<F extends object, K extends StepKey<F>>(
    flow: FlowClass<F>,
    step: K,
    handler: StepReplacement<F, K>,
  ): this {
    const override = { flow, step, handler: handler as (input: never, context: never) => unknown };
    checkOverride(override);
    this.overrider.apply(override);
    return this;
  }

  /** Puts back every step replaced by overrideStep(), here or on the builder. */
  restoreSteps(): this {
    this.overrider.restore();
    return this;
  }

  /** Closes the application: the worker stops, waits end, the connections close. */
  close(): Promise<void> {
    return this.app.close();
  }
}
