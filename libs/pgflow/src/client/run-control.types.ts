import type { FlowReference } from '../types/flow-class.ts';
import type { RunStatusValue } from './run.types.ts';

/** Options of `FlowClient.cancel()`. */
export interface CancelRunOptions {
  /** Why (at most 2,000 bytes are kept): the reason of the handlers' ctx.signal and of RunCancelledError. */
  readonly reason?: string;
}

/** What `FlowClient.cancel()` resolves with. */
export interface CancelRunResult {
  readonly runId: string;
  /** The run's status after the call: `cancelled`, or the status it had already ended in. */
  readonly status: RunStatusValue;
  /** False when the run had already ended: nothing changed. */
  readonly cancelled: boolean;
}

/** Options of `FlowClient.retry()`. */
export interface RetryRunOptions {
  /** Also re-run this step (even completed, in a completed run too) and everything downstream of it. */
  readonly fromStep?: string;
}

/** What `FlowClient.pauseFlow()` and `resumeFlow()` resolve with. */
export interface FlowPauseState {
  readonly flowSlug: string;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  /** False when the flow already was in that state. */
  readonly changed: boolean;
}

/** Options of `FlowClient.listRuns()`. */
export interface ListRunsOptions {
  /** Only the runs of this flow (class or slug). */
  readonly flow?: FlowReference;
  readonly status?: RunStatusValue;
  /** Only the runs started after / before these times. */
  readonly startedAfter?: Date;
  readonly startedBefore?: Date;
  /** Runs per page, 1 to 1,000 [50]. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One run in a listing. */
export interface RunSummary {
  readonly runId: string;
  readonly flowSlug: string;
  readonly status: RunStatusValue;
  readonly input: unknown;
  readonly output: unknown;
  readonly startedAt: Date;
  readonly completedAt: Date | null;
  readonly failedAt: Date | null;
  readonly cancelledAt: Date | null;
  readonly cancelReason: string | null;
  /** The key of its flow's per-key concurrency limit (`@Flow({ concurrencyKey })`), or null. */
  readonly concurrencyKey: string | null;
  /** True while the run waits for a slot of its key's concurrency limit (see RunSnapshot.waitingForSlot). */
  readonly waitingForSlot: boolean;
}

/** A page of `FlowClient.listRuns()`: newest first; `nextCursor` is null on the last page. */
export interface RunPage {
  readonly runs: readonly RunSummary[];
  readonly nextCursor: string | null;
}
