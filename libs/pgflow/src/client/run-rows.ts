import type { RunSnapshot, RunStatusValue, StepSnapshot, StepStatusValue, TaskStatusValue } from './run.types.ts';

/** Rows as the client's statements (db/engine.sql.ts) return them. */
export interface RunRow {
  readonly run_id: string;
  readonly flow_slug: string;
  readonly status: RunStatusValue;
  readonly input: unknown;
  readonly output: unknown;
  readonly started_at: Date;
  readonly completed_at: Date | null;
  readonly failed_at: Date | null;
}

export interface StepRow {
  readonly step_slug: string;
  readonly status: StepStatusValue;
  readonly output: unknown;
  readonly error_message: string | null;
  readonly skip_reason: string | null;
  readonly started_at: Date | null;
  readonly completed_at: Date | null;
  readonly failed_at: Date | null;
  readonly skipped_at: Date | null;
}

export interface TaskRow {
  readonly step_slug: string;
  readonly task_index: number;
  readonly status: TaskStatusValue;
  readonly attempts_count: number;
  readonly error_message: string | null;
}

export function toRunSnapshot(run: RunRow, steps: readonly StepRow[], tasks: readonly TaskRow[]): RunSnapshot {
  const tasksByStep = new Map<string, TaskRow[]>();
  for (const task of tasks) {
    const list = tasksByStep.get(task.step_slug) ?? [];
    list.push(task);
    tasksByStep.set(task.step_slug, list);
  }
  return {
    runId: run.run_id,
    flowSlug: run.flow_slug,
    status: run.status,
    input: run.input,
    output: run.output,
    startedAt: run.started_at,
    completedAt: run.completed_at,
    failedAt: run.failed_at,
    steps: steps.map(
      (step): StepSnapshot => ({
        stepSlug: step.step_slug,
        status: step.status,
        output: step.output,
        errorMessage: step.error_message,
        skipReason: step.skip_reason,
        startedAt: step.started_at,
        completedAt: step.completed_at,
        failedAt: step.failed_at,
        skippedAt: step.skipped_at,
        tasks: (tasksByStep.get(step.step_slug) ?? []).map((task) => ({
          taskIndex: task.task_index,
          status: task.status,
          attemptsCount: task.attempts_count,
          errorMessage: task.error_message,
        })),
      }),
    ),
  };
}
