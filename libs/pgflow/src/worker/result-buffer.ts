import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { isRetryableError } from '../db/sql-state.ts';

export interface TaskKey {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  /**
   * The attempt the result is for: the engine ignores a result of another attempt than the one
   * running (this worker lost the task to a stall sweep or a timeout and reports late).
   */
  readonly attempt: number;
}

export interface Completion extends TaskKey {
  readonly output: unknown;
}

export interface Failure extends TaskKey {
  readonly error_message: string;
  /** false: the engine fails the task at once, whatever attempts are left (NonRetryableError). */
  readonly retryable?: false;
}

export interface Results {
  readonly completions: Completion[];
  readonly failures: Failure[];
}

/** What {@link ResultBuffer.isolate} could not store for now. */
export interface KeptResults {
  /** Entries back in the buffer, to be reported again. */
  readonly kept: number;
  /** The error of the last of them. */
  readonly cause: unknown;
}

/**
 * Results of finished tasks waiting to be reported: the worker takes them all at each round trip
 * (so one commit carries every task that finished meanwhile), puts them back when the connection
 * failed (completing a task twice changes nothing, so a retry is safe), and isolates them when the
 * engine refused the batch, so that one bad entry cannot block the others.
 */
export class ResultBuffer {
  private completions: Completion[] = [];
  private failures: Failure[] = [];
  /** The flow of each result, oldest first (for the claim that goes with the report). */
  private flows: string[] = [];

  constructor(
    private readonly database: PgflowDatabase,
    private readonly logger: Logger,
  ) {}

  get pending(): number {
    return this.completions.length + this.failures.length;
  }

  complete(flowSlug: string, key: TaskKey, output: unknown): void {
    this.completions.push({ ...pick(key), output });
    this.flows.push(flowSlug);
  }

  fail(flowSlug: string, key: TaskKey, errorMessage: string, retryable = true): void {
    this.failures.push({ ...pick(key), error_message: errorMessage, ...(retryable ? {} : { retryable: false }) });
    this.flows.push(flowSlug);
  }

  /** Adds the runs of the results waiting here to `runIds`. */
  addRunIds(runIds: Set<string>): void {
    for (const completion of this.completions) runIds.add(completion.run_id);
    for (const failure of this.failures) runIds.add(failure.run_id);
  }

  /** The flow of the oldest result waiting to be reported. */
  oldestFlowSlug(): string | undefined {
    return this.flows[0];
  }

  take(): Results {
    const taken = { completions: this.completions, failures: this.failures };
    this.completions = [];
    this.failures = [];
    this.flows = [];
    return taken;
  }

  putBack(results: Results): void {
    this.completions = [...results.completions, ...this.completions];
    this.failures = [...results.failures, ...this.failures];
  }

  /**
   * Reports each entry in a statement of its own. An entry whose statement failed for a reason of
   * the moment (a lost connection, a deadlock, a serialization failure, a lock or statement timeout)
   * goes back to the buffer: it says nothing about the entry, and the same report later will do.
   * Only a refusal of the entry itself changes it: a refused completion (an output the engine cannot
   * store) becomes a failure of the attempt; a refused failure is dropped (the stall sweep retries
   * the task).
   */
  async isolate(results: Results): Promise<KeptResults> {
    let kept = 0;
    let cause: unknown;
    for (const completion of results.completions) {
      try {
        await this.database.query(sql.completeTasks, [JSON.stringify([completion])]);
      } catch (error) {
        if (isRetryableError(error)) {
          this.completions.push(completion);
          kept += 1;
          cause = error;
          continue;
        }
        this.logger.error(
          `The engine refused the output of task ${describe(completion)}; failing the attempt instead.`,
          (error as Error).stack,
        );
        this.failures.push({
          ...pick(completion),
          error_message: `The output could not be stored: ${(error as Error).message}`,
        });
      }
    }
    for (const failure of results.failures) {
      try {
        await this.database.query(sql.failTasks, [JSON.stringify([failure])]);
      } catch (error) {
        if (isRetryableError(error)) {
          this.failures.push(failure);
          kept += 1;
          cause = error;
          continue;
        }
        this.logger.error(
          `The engine refused the failure of task ${describe(failure)}; the stall sweep will retry the task.`,
          (error as Error).stack,
        );
      }
    }
    return { kept, cause };
  }
}

function pick(key: TaskKey): TaskKey {
  return { run_id: key.run_id, step_slug: key.step_slug, task_index: key.task_index, attempt: key.attempt };
}

function describe(key: TaskKey): string {
  return `${key.step_slug}[${key.task_index}] of run ${key.run_id} (attempt ${key.attempt})`;
}
