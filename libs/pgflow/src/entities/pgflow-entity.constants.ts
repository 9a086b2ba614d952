/** The schema of every engine table. */
export const PGFLOW_SCHEMA = 'pgflow';

/** A run's status (`pgflow.runs.status`). */
export type RunStatus = 'started' | 'completed' | 'failed' | 'cancelled';

/** A step state's status (`pgflow.step_states.status`). */
export type StepStateStatus = 'created' | 'started' | 'completed' | 'failed' | 'skipped' | 'cancelled';

/** A task's status (`pgflow.step_tasks.status`). */
export type StepTaskStatus = 'queued' | 'started' | 'completed' | 'failed' | 'cancelled';

/** Why a step state was skipped (`pgflow.step_states.skip_reason`). */
export type SkipReason = 'condition_unmet' | 'handler_failed' | 'dependency_skipped';

/** What became of a schedule's tick (`pgflow.schedule_ticks.outcome`). */
export type ScheduleTickOutcome = 'started' | 'skipped_overlap' | 'skipped_catch_up' | 'failed';
