import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { retryWhileRetryable } from '../db/retry-while-retryable.ts';
import type { StepDefinition } from '../definition/flow-definition.ts';
import type { ClaimedTask } from './task-execution.ts';
import { describeThrown } from './task-outcome.ts';

/** A claimed task of a step with `delayUntil`, with the input its handler would get. */
export interface SleepCandidate {
  readonly task: ClaimedTask;
  readonly step: StepDefinition;
  readonly input: unknown;
}

/** What became of the candidates: run now, asleep in the engine, or a delayUntil that failed. */
export interface SleepDecision {
  readonly runNow: ClaimedTask[];
  readonly asleep: number;
  /** Tasks whose delayUntil threw or returned no valid Date: they fail without retries. */
  readonly invalid: { readonly task: ClaimedTask; readonly message: string }[];
}

/**
 * Durable sleep (@Step({ delayUntil })): computes each claimed task's wake time from its input and
 * lets the engine decide in one statement (pgflow._sleep_tasks) which tasks run now (their time has
 * come, or a wake time kept from an earlier claim has) and which go back to the queue, invisible
 * until their time, without counting the attempt. A statement that fails for a reason that may pass
 * is tried again for a while; then the error is thrown and the caller hands the tasks back.
 */
export class DurableSleep {
  constructor(
    private readonly database: PgflowDatabase,
    private readonly stopping: AbortSignal,
    private readonly retryForMs: number,
  ) {}

  async decide(flowSlug: string, workerId: string, candidates: readonly SleepCandidate[]): Promise<SleepDecision> {
    const invalid: { task: ClaimedTask; message: string }[] = [];
    const wakeTimes: { msg_id: string; until: string }[] = [];
    for (const { task, step, input } of candidates) {
      const until = wakeTime(step, input);
      if (typeof until === 'string') invalid.push({ task, message: until });
      else wakeTimes.push({ msg_id: task.msg_id, until: until.toISOString() });
    }
    if (wakeTimes.length === 0) return { runNow: [], asleep: 0, invalid };
    const rows = await this.sleepTasks(flowSlug, workerId, wakeTimes);
    const awake = new Set(rows.filter((row) => !row.sleeping).map((row) => row.msg_id));
    return {
      // A task the engine did not return is no longer this worker's (requeued or cancelled meanwhile).
      runNow: candidates.map((c) => c.task).filter((task) => awake.has(task.msg_id)),
      asleep: rows.length - awake.size,
      invalid,
    };
  }

  private async sleepTasks(
    flowSlug: string,
    workerId: string,
    wakeTimes: readonly { msg_id: string; until: string }[],
  ): Promise<{ msg_id: string; sleeping: boolean }[]> {
    return retryWhileRetryable(
      () => this.database.query(sql.sleepTasks, [flowSlug, workerId, JSON.stringify(wakeTimes)]),
      this.retryForMs,
      this.stopping,
    );
  }
}

/** The task's wake time from the step's delayUntil, or why there is none (a message). */
function wakeTime(step: StepDefinition, input: unknown): Date | string {
  const what = `@Step({ delayUntil }) of step '${step.slug}'`;
  let value: unknown;
  try {
    value = (step.delayUntil as (input: unknown) => unknown)(input);
  } catch (error) {
    return `${what} threw: ${describeThrown(error)}`;
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  const shown = value instanceof Date ? 'an invalid Date' : typeof value === 'string' ? `'${value}'` : String(value);
  return `${what} returned ${shown}, not a valid Date: return a Date (e.g. new Date(Date.parse(deps.order.shipBy))).`;
}
