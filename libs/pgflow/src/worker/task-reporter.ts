import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { isConnectionError } from '../db/sql-state.ts';
import { Backoff } from './backoff.ts';

export interface TaskKey {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
}

interface Completion extends TaskKey {
  readonly output: unknown;
}

interface Failure extends TaskKey {
  readonly error_message: string;
}

/**
 * Reports finished tasks to the engine in batches: a report starts at once when none is in flight
 * (low latency when idle), and whatever finishes meanwhile goes in the next one (large batches under
 * load, so a commit carries many tasks). A lost connection keeps the batch and retries it after a
 * backoff (completing a task twice changes nothing, so retrying is safe); an entry the engine
 * refuses on its own is isolated, so it cannot block the others.
 */
export class TaskReporter {
  private completions: Completion[] = [];
  private failures: Failure[] = [];
  private flushing: Promise<void> | undefined;
  private readonly backoff = new Backoff(100, 5_000);
  private stopped = false;

  constructor(
    private readonly database: PgflowDatabase,
    private readonly logger: Logger,
  ) {}

  get pending(): number {
    return this.completions.length + this.failures.length;
  }

  complete(key: TaskKey, output: unknown): void {
    this.completions.push({ ...pick(key), output });
    this.kick();
  }

  fail(key: TaskKey, errorMessage: string): void {
    this.failures.push({ ...pick(key), error_message: errorMessage });
    this.kick();
  }

  /** Waits until everything reported so far is stored, or the deadline passes (then stops retrying). */
  async drain(deadline: number): Promise<boolean> {
    while (this.pending > 0 || this.flushing !== undefined) {
      if (Date.now() >= deadline) break;
      this.kick();
      await Promise.race([this.flushing, sleep(Math.max(0, deadline - Date.now()))]);
    }
    this.stopped = true;
    return this.pending === 0;
  }

  private kick(): void {
    if (this.flushing !== undefined || this.stopped) return;
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending > 0 && !this.stopped) this.kick();
    });
  }

  private async flushAll(): Promise<void> {
    while (this.pending > 0 && !this.stopped) {
      const completions = this.completions;
      const failures = this.failures;
      this.completions = [];
      this.failures = [];
      try {
        if (completions.length > 0) await this.send(sql.completeTasks, completions);
        if (failures.length > 0) await this.send(sql.failTasks, failures);
        this.backoff.reset();
      } catch (error) {
        if (!isConnectionError(error)) {
          await this.isolate(completions, failures);
          continue;
        }
        // Keep the batch (a second completion of an already completed task changes nothing).
        this.completions = [...completions, ...this.completions];
        this.failures = [...failures, ...this.failures];
        const delay = this.backoff.next();
        if (this.backoff.attempts === 1) {
          this.logger.warn(`Could not report ${this.pending} task result(s): ${(error as Error).message}. Retrying.`);
        }
        await sleep(delay);
      }
    }
  }

  /** One statement per entry, so that one refused entry fails alone (a completion becomes a failure). */
  private async isolate(completions: Completion[], failures: Failure[]): Promise<void> {
    for (const completion of completions) {
      try {
        await this.send(sql.completeTasks, [completion]);
      } catch (error) {
        if (isConnectionError(error)) {
          this.completions.push(completion);
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
    for (const failure of failures) {
      try {
        await this.send(sql.failTasks, [failure]);
      } catch (error) {
        if (isConnectionError(error)) {
          this.failures.push(failure);
          continue;
        }
        this.logger.error(
          `The engine refused the failure of task ${describe(failure)}; the stall sweep will retry the task.`,
          (error as Error).stack,
        );
      }
    }
  }

  private async send(statement: string, entries: readonly object[]): Promise<void> {
    await this.database.query(statement, [JSON.stringify(entries)]);
  }
}

function pick(key: TaskKey): TaskKey {
  return { run_id: key.run_id, step_slug: key.step_slug, task_index: key.task_index };
}

function describe(key: TaskKey): string {
  return `${key.step_slug}[${key.task_index}] of run ${key.run_id}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
