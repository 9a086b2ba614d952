/**
 * Run and flow control for FlowClient: cancel and retry a run (in the database that holds it), pause
 * and resume a flow (in its registration's database). Each is one engine function
 * (pgflow.cancel_run, retry_run, pause_flow, resume_flow); errors are told apart by SQLSTATE.
 */
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlErrorField, sqlStateOf } from '../db/sql-state.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { RunNotRetryableError } from '../errors/run-not-retryable.error.ts';
import type { PgflowRegistration } from '../registration/pgflow-registration.ts';
import type { RunRouter } from '../registration/run-router.ts';
import type { FlowReference } from '../types/flow-class.ts';
import type { CancelRunOptions, CancelRunResult, FlowPauseState, RetryRunOptions } from './run-control.types.ts';
import type { RunHandle } from './run-handle.ts';
import { assertRunId, flowOf } from './run-start.ts';

/** Makes the handle of a run in `target`'s database (FlowClient's, so that it waits through it). */
export type HandleFactory = (target: PgflowRegistration, runId: string, flowSlug: string) => RunHandle;

export class RunControl {
  constructor(
    private readonly registry: FlowRegistry,
    private readonly router: RunRouter,
    private readonly handleOf: HandleFactory,
  ) {}

  async cancel(runId: string, options: CancelRunOptions = {}): Promise<CancelRunResult> {
    assertRunId(runId);
    const { reason } = options;
    if (reason !== undefined && typeof reason !== 'string') {
      throw new InvalidOptionsError('reason', reason, 'a string saying why the run is cancelled', {
        subject: 'FlowClient.cancel() option',
      });
    }
    const target = await this.router.forRun(runId);
    let rows: Array<{ result: { run_id: string; status: CancelRunResult['status']; cancelled: boolean } }>;
    try {
      rows = await target.database.query(sql.cancelRun, [runId, reason ?? null]);
    } catch (error) {
      throw sqlStateOf(error) === EngineSqlState.RunNotFound ? new RunNotFoundError(runId) : error;
    }
    const result = rows[0]?.result;
    if (result === undefined) throw new Error(`pgflow.cancel_run('${runId}') returned nothing.`);
    return { runId: result.run_id, status: result.status, cancelled: result.cancelled };
  }

  async retry(runId: string, options: RetryRunOptions = {}): Promise<RunHandle> {
    assertRunId(runId);
    const { fromStep } = options;
    if (fromStep !== undefined && (typeof fromStep !== 'string' || fromStep.length === 0)) {
      throw new InvalidOptionsError('fromStep', fromStep, 'the slug of a step of the run’s flow', {
        subject: 'FlowClient.retry() option',
      });
    }
    const target = await this.router.forRun(runId);
    let rows: Array<{ run_id: string; flow_slug: string }>;
    try {
      rows = await target.database.query(sql.retryRun, [runId, fromStep ?? null]);
    } catch (error) {
      throw retryError(runId, error);
    }
    const [run] = rows;
    if (run === undefined) throw new Error(`pgflow.retry_run('${runId}') returned no run.`);
    target.workers.started(run.flow_slug);
    return this.handleOf(target, run.run_id, run.flow_slug);
  }

  pauseFlow(flow: FlowReference): Promise<FlowPauseState> {
    return this.setPaused(flow, true);
  }

  resumeFlow(flow: FlowReference): Promise<FlowPauseState> {
    return this.setPaused(flow, false);
  }

  private async setPaused(flow: FlowReference, paused: boolean): Promise<FlowPauseState> {
    const { slug } = flowOf(this.registry, flow);
    const target = this.router.forFlow(slug);
    let rows: Array<{
      result: { flow_slug: string; paused: boolean; paused_at: string | null; changed: boolean };
    }>;
    try {
      rows = await target.database.query(paused ? sql.pauseFlow : sql.resumeFlow, [slug]);
    } catch (error) {
      if (sqlStateOf(error) !== EngineSqlState.FlowNotFound) throw error;
      throw new FlowNotFoundError(
        slug,
        'slug',
        this.registry.getSlugs(),
        `The database has no flow with this slug, so it cannot be ${paused ? 'paused' : 'resumed'}.`,
      );
    }
    const result = rows[0]?.result;
    if (result === undefined)
      throw new Error(`pgflow.${paused ? 'pause' : 'resume'}_flow('${slug}') returned nothing.`);
    return {
      flowSlug: result.flow_slug,
      paused: result.paused,
      pausedAt: result.paused_at === null ? null : new Date(result.paused_at),
      changed: result.changed,
    };
  }
}

/** The library's error for a refused retry, by the engine's SQLSTATE. */
function retryError(runId: string, error: unknown): unknown {
  const message = (error as Error | undefined)?.message ?? String(error);
  const hint = sqlErrorField(error, 'hint');
  switch (sqlStateOf(error)) {
    case EngineSqlState.RunNotFound:
      return new RunNotFoundError(runId);
    case EngineSqlState.RunNotRetryable:
      return new RunNotRetryableError(runId, 'run-state', message, hint, { cause: error });
    case EngineSqlState.StepNotFound:
      return new RunNotRetryableError(runId, 'unknown-step', message, hint, { cause: error });
    case EngineSqlState.FlowShapeChanged:
      return new RunNotRetryableError(runId, 'flow-changed', message, hint, { cause: error });
    default:
      return error;
  }
}
