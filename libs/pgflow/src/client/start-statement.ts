import type { EntityManager } from 'typeorm';
import { sql } from '../db/engine.sql.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import type { ClaimedTask } from '../worker/task-execution.ts';

/** One run to start, checked by FlowClient.start(). */
export interface RunToStart {
  readonly slug: string;
  /** The input as JSON text. */
  readonly json: string;
  /** The run id, or null for the engine's. */
  readonly runId: string | null;
  readonly idempotencyKey: string | undefined;
  readonly traceparent: string | null;
  readonly priority: number;
  readonly rateLimitKey: string | null;
  readonly concurrencyKey: string | null;
  /** The caller's transaction, if any. */
  readonly manager: EntityManager | undefined;
}

/** The started run (the one that had the idempotency key, when one did). */
export interface StartedRun {
  readonly run_id: string;
  readonly flow_slug: string;
}

type StartAndClaimRow = { readonly kind: 'run' | 'task' } & StartedRun & ClaimedTask;

/**
 * Starts one run in one statement. When the worker of this process serves the flow and has a free
 * slot, the same statement claims the flow's next tasks for it (pgflow._start_and_claim): the run's
 * first task runs here without waiting for the worker to be woken and to claim it. Not inside the
 * caller's transaction (its tasks must not run before it commits), nor for a worker that is busy,
 * stopped or serving other flows: then the start is start_flow alone, and a worker is woken as usual.
 */
export async function startRun(target: PgflowRegistration, run: RunToStart): Promise<StartedRun | undefined> {
  const { slug, json, runId, idempotencyKey: key, traceparent, priority, rateLimitKey, concurrencyKey } = run;
  const claim = run.manager === undefined ? target.localWorker?.claimFor(slug) : undefined;
  if (claim === undefined) {
    const [started] = await target.database.query<StartedRun>(
      key === undefined ? sql.startFlow : sql.startFlowWithKey,
      key === undefined
        ? [slug, json, runId, traceparent, priority, rateLimitKey, concurrencyKey]
        : [slug, json, runId, key, traceparent, priority, rateLimitKey, concurrencyKey],
      run.manager,
    );
    return started;
  }
  let rows: StartAndClaimRow[];
  try {
    rows = await target.database.query<StartAndClaimRow>(sql.startAndClaim, [
      slug,
      json,
      runId,
      key ?? null,
      traceparent,
      priority,
      rateLimitKey,
      concurrencyKey,
      claim.quantity,
      claim.visibilityTimeout,
      claim.workerId,
      [...claim.knownRunIds],
    ]);
  } catch (error) {
    claim.deliver([]);
    throw error;
  }
  claim.deliver(rows.filter((row) => row.kind === 'task'));
  return rows.find((row) => row.kind === 'run');
}
