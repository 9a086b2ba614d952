/**
 * A run's rows as the engine leaves them, without what differs from one execution to another (ids,
 * times, workers, message ids): only whether each timestamp is set. Two executions of the same
 * flow with the same input and outcomes have equal rows.
 */
import type { TestDatabase } from '../../support/test-database.ts';

export async function comparableRows(db: TestDatabase, runId: string): Promise<unknown> {
  const [run] = await db.query(
    `select status, input, output, remaining_steps, completed_at is not null as completed, failed_at is not null as failed
       from pgflow.runs where run_id = $1`,
    [runId],
  );
  const steps = await db.query(
    `select step_slug, status, remaining_tasks, initial_tasks, remaining_deps, output, error_message, skip_reason,
            started_at is not null as started, completed_at is not null as completed,
            failed_at is not null as failed, skipped_at is not null as skipped
       from pgflow.step_states where run_id = $1 order by step_slug`,
    [runId],
  );
  const tasks = await db.query(
    `select step_slug, task_index, status, attempts_count, output, error_message, requeued_count,
            started_at is not null as started, completed_at is not null as completed, failed_at is not null as failed
       from pgflow.step_tasks where run_id = $1 order by step_slug, task_index`,
    [runId],
  );
  return { run, steps, tasks };
}
