/**
 * Signals for FlowClient: delivers a named signal with a JSON payload to a run, through
 * pgflow.send_signal in the database that holds the run. The engine decides (the run locked): it
 * refuses an ended run, an unknown name, a second signal of a name and a step that ended without
 * it; the library maps those refusals to SignalRefusedError by SQLSTATE.
 */
import { sql } from '../db/engine.sql.ts';
import { EngineSqlState, sqlErrorField, sqlStateOf } from '../db/sql-state.ts';
import { slugProblem } from '../definition/slug.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { type SignalRefusal, SignalRefusedError } from '../errors/signal-refused.error.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import type { RunRouter } from '../registration/run-router.ts';
import { assertRunId } from './run-start.ts';

/** What FlowClient.signal() did. */
export interface SignalResult {
  readonly runId: string;
  readonly signalName: string;
  /** The step that waits for this signal. */
  readonly stepSlug: string;
  /**
   * true: the step was waiting and its task is now queued with the payload; false: the step is not
   * ready yet, and starts with the payload as soon as it is.
   */
  readonly delivered: boolean;
}

const REFUSALS: Readonly<Record<string, SignalRefusal>> = {
  [EngineSqlState.SignalRunEnded]: 'run-ended',
  [EngineSqlState.SignalUnknown]: 'unknown-signal',
  [EngineSqlState.SignalDuplicate]: 'duplicate',
  [EngineSqlState.SignalStepEnded]: 'step-ended',
};

export async function sendSignal(
  router: RunRouter,
  runId: string,
  signalName: string,
  payload: unknown,
): Promise<SignalResult> {
  assertRunId(runId);
  const problem = slugProblem(signalName, 'step');
  if (problem !== undefined) {
    throw new InvalidOptionsError('signalName', signalName, `the name of a step's @Step({ signal }) (${problem})`, {
      subject: 'FlowClient.signal() argument',
    });
  }
  let json: string;
  try {
    json = JSON.stringify(toJsonValue(payload === undefined ? null : payload, 'payload'));
  } catch (error) {
    if (!(error instanceof NotJsonError)) throw error;
    throw new InvalidOptionsError('payload', payload, `a JSON value (${error.message})`, {
      subject: 'FlowClient.signal() argument',
    });
  }
  const target = await router.forRun(runId);
  let rows: Array<{ result: { run_id: string; signal_name: string; step_slug: string; delivered: boolean } }>;
  try {
    rows = await target.database.query(sql.sendSignal, [runId, signalName, json]);
  } catch (error) {
    throw signalError(runId, signalName, error);
  }
  const result = rows[0]?.result;
  if (result === undefined) throw new Error(`pgflow.send_signal('${runId}', '${signalName}') returned nothing.`);
  return {
    runId: result.run_id,
    signalName: result.signal_name,
    stepSlug: result.step_slug,
    delivered: result.delivered,
  };
}

function signalError(runId: string, signalName: string, error: unknown): unknown {
  const state = sqlStateOf(error);
  if (state === EngineSqlState.RunNotFound) return new RunNotFoundError(runId);
  const reason = state === undefined ? undefined : REFUSALS[state];
  if (reason === undefined) return error;
  const message = (error as Error | undefined)?.message ?? String(error);
  return new SignalRefusedError(runId, signalName, reason, message, sqlErrorField(error, 'hint'), { cause: error });
}
