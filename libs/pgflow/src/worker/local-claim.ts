import type { RunHolder } from '../registration/local-outcomes.ts';
import type { ClaimedTask } from './task-execution.ts';

/**
 * A claim that FlowClient.start() makes for the worker of its own process, in the statement that
 * starts the run (pgflow._start_and_claim): the run's first task reaches that worker without a
 * wake-up notification and a claim round trip of its own. The worker reserved `quantity` task slots
 * for it; deliver() hands over what the statement claimed and frees the reservation (call it exactly
 * once, with no task when the statement failed).
 */
export interface LocalClaim {
  /** The worker's row of the run's flow (pgflow.workers). */
  readonly workerId: string;
  /** Tasks the statement may claim (slots reserved for them). */
  readonly quantity: number;
  /** The worker's visibility timeout, in seconds. */
  readonly visibilityTimeout: number;
  /** Runs whose input the worker holds (the engine leaves it out of their tasks). */
  readonly knownRunIds: readonly string[];
  deliver(tasks: readonly ClaimedTask[]): void;
}

/** What a registration's worker offers its process's FlowClient (and its wait()s: RunHolder). */
export interface LocalClaimer extends RunHolder {
  /** A claim for the next start of `flowSlug`, or undefined: not served here, not running, or busy. */
  claimFor(flowSlug: string): LocalClaim | undefined;
}
