import type {
  ChildRunSummary,
  RunSnapshot,
  RunStatusValue,
  StepSnapshot,
  StepStatusValue,
  TaskSnapshot,
  TaskStatusValue,
} from './run.types.ts';

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
  readonly cancelled_at?: Date | null;
  readonly cancel_reason?: string | null;
  readonly priority?: number;
  readonly concurrency_key?: string | null;
  /** null, or 'waiting' (over its key's concurrency limit) or 'admitted'. */
  readonly concurrency_state?: string | null;
}

/** A row of sql.runSnapshot: the run, its first failed step, and its steps and tasks as JSON. */
export interface SnapshotRow extends RunRow {
  readonly failed_step: string | null;
  readonly error_message: string | null;
  readonly flow_alias: string | null;
  readonly steps: ReadonlyArray<{
    readonly step_slug: string;
    readonly status: StepStatusValue;
    readonly output: unknown;
    readonly error_message: string | null;
    readonly skip_reason: string | null;
    readonly started_at: string | null;
    readonly completed_at: string | null;
    readonly failed_at: string | null;
    readonly skipped_at: string | null;
    readonly cancelled_at?: string | null;
    readonly waiting_for_signal?: string | null;
  }>;
  readonly tasks: ReadonlyArray<{
    readonly step_slug: string;
    readonly task_index: number;
    readonly status: TaskStatusValue;
    readonly attempts_count: number;
    readonly error_message: string | null;
  }>;
  readonly parent_run_id?: string | null;
  readonly parent_step_slug?: string | null;
  readonly parent_task_index?: number | null;
  readonly children?: ReadonlyArray<{
    readonly run_id: string;
    readonly flow_slug: string;
    readonly step_slug: string;
    readonly task_index: number;
    readonly status: RunStatusValue;
  }>;
}

export function toRunSnapshot(row: SnapshotRow): RunSnapshot {
  const tasksByStep = new Map<string, TaskSnapshot[]>();
  for (const task of row.tasks) {
    const list = tasksByStep.get(task.step_slug) ?? [];
    list.push({
      taskIndex: task.task_index,
      status: task.status,
      attemptsCount: task.attempts_count,
      errorMessage: task.error_message,
    });
    tasksByStep.set(task.step_slug, list);
  }
  return {
    runId: row.run_id,
    flowSlug: row.flow_slug,
    alias: row.flow_alias,
    status: row.status,
    input: row.input,
    output: row.output,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    failedAt: row.failed_at,
    cancelledAt: row.cancelled_at ?? null,
    cancelReason: row.cancel_reason ?? null,
    priority: row.priority ?? 0,
    concurrencyKey: row.concurrency_key ?? null,
    waitingForSlot: isWaitingForSlot(row),
    parent:
      row.parent_run_id == null
        ? null
        : {
            runId: row.parent_run_id,
            stepSlug: row.parent_step_slug as string,
            taskIndex: row.parent_task_index as number,
          },
    children: (row.children ?? []).map(
      (child): ChildRunSummary => ({
        runId: child.run_id,
        flowSlug: child.flow_slug,
        stepSlug: child.step_slug,
        taskIndex: child.task_index,
        status: child.status,
      }),
    ),
    steps: row.steps.map(
      (step): StepSnapshot => ({
        stepSlug: step.step_slug,
        status: step.status,
        output: step.output,
        errorMessage: step.error_message,
        skipReason: step.skip_reason,
        startedAt: toDate(step.started_at),
        completedAt: toDate(step.completed_at),
        failedAt: toDate(step.failed_at),
        skippedAt: toDate(step.skipped_at),
        cancelledAt: toDate(step.cancelled_at ?? null),
        waitingForSignal: step.waiting_for_signal ?? null,
        tasks: tasksByStep.get(step.step_slug) ?? [],
      }),
    ),
  };
}

/** A run over its key's concurrency limit: started, none of its steps started until a slot frees. */
export function isWaitingForSlot(row: {
  readonly status: string;
  readonly concurrency_state?: string | null;
}): boolean {
  return row.status === 'started' && row.concurrency_state === 'waiting';
}

/** Timestamps inside JSON arrive as ISO strings. */
function toDate(value: string | null): Date | null {
  return value === null ? null : new Date(value);
}
