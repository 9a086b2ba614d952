import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { retryWhileRetryable } from '../db/retry-while-retryable.ts';
import { isRetryableError } from '../db/sql-state.ts';
import type { StepDefinition } from '../definition/flow-definition.ts';
import { NonRetryableError } from '../errors/non-retryable.error.ts';
import { SubflowInput } from '../types/subflow-input.ts';
import type { ResultBuffer } from './result-buffer.ts';
import type { ClaimedTask } from './task-execution.ts';

/**
 * A subflow step's return value as the child run's input: the input a {@link SubflowInput} carries
 * (which must name the step's own child flow), or the value itself.
 */
export function childRunInput(step: StepDefinition, value: unknown): unknown {
  if (!(value instanceof SubflowInput) || step.subflow === null) return value;
  if (value.flow !== step.subflow.flowClass) {
    const returned = value.flow?.name || '(anonymous class)';
    throw new NonRetryableError(
      `Step '${step.slug}' returned subflowInput(${returned}, ...), but its @Step({ subflow }) is ` +
        `${step.subflow.flowClass.name}: return subflowInput(${step.subflow.flowClass.name}, input).`,
    );
  }
  return value.input;
}

/** What pgflow._start_child_run answered. */
interface StartChildRunResult {
  readonly started: boolean;
  readonly child_run_id: string | null;
  readonly error?: string;
}

/**
 * Subflows: reports a subflow step's completed handler by starting its child run
 * (pgflow._start_child_run) instead of completing the task, which then waits for the child, holding
 * no worker. A statement that fails for a reason that may pass is tried again for a while (a repeated
 * start for the same attempt returns the child it started); if it never goes through, the task stays
 * started and the stall sweep gives it another attempt after its timeout. A refusal of the statement
 * itself fails the attempt.
 */
export class ChildRunStarter {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly database: PgflowDatabase,
    private readonly results: ResultBuffer,
    private readonly logger: Logger,
    private readonly stopping: AbortSignal,
    private readonly retryForMs: number,
  ) {}

  /** Starts the child run of `task` with `input`; `done` is called once the report is over, whatever it was. */
  start(flowSlug: string, task: ClaimedTask, step: StepDefinition, input: unknown, done: () => void): void {
    const started = this.report(flowSlug, task, step, input).finally(() => {
      this.pending.delete(started);
      done();
    });
    this.pending.add(started);
  }

  /** Resolves when every start under way is over. */
  async allSettled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async report(flowSlug: string, task: ClaimedTask, step: StepDefinition, input: unknown): Promise<void> {
    const childSlug = (step.subflow as NonNullable<StepDefinition['subflow']>).slug;
    const what = `Step '${task.step_slug}' (task ${task.task_index}) of run ${task.run_id}`;
    let result: StartChildRunResult | undefined;
    try {
      const [row] = await retryWhileRetryable(
        () =>
          this.database.query<{ result: StartChildRunResult }>(sql.startChildRun, [
            task.run_id,
            task.step_slug,
            task.task_index,
            task.attempt,
            childSlug,
            JSON.stringify(input),
          ]),
        this.retryForMs,
        this.stopping,
      );
      result = row?.result;
    } catch (error) {
      // A refusal of the statement itself fails the attempt; anything else (the connection, the moment) does not.
      if (!isRetryableError(error)) {
        this.results.fail(
          flowSlug,
          task,
          `Could not start a child run of flow '${childSlug}': ${(error as Error).message}`,
        );
        this.logger.error(`${what}: could not start its child run of '${childSlug}'.`, (error as Error).stack);
      } else {
        this.logger.warn(
          `${what}: could not start its child run of '${childSlug}' (${(error as Error).message}); the task ` +
            'gets another attempt after its timeout.',
        );
      }
      return;
    }
    if (result?.error !== undefined) {
      this.logger.error(`${what} failed on attempt ${task.attempt}, its child run was refused: ${result.error}`);
    } else if (result?.started) {
      this.logger.debug(`${what} waits for its child run ${result.child_run_id} of '${childSlug}'.`);
    }
  }
}
