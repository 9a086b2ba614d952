import type { EntityManager } from 'typeorm';

/** Options of `FlowClient.start()`. */
export interface StartRunOptions {
  /** The run's id (a UUID) [chosen by the engine]: lets the caller know it before the run exists. */
  readonly runId?: string;
  /** Start the run inside this transaction: the run exists only if the transaction commits. */
  readonly manager?: EntityManager;
  /**
   * At most 255 characters: the first start of the flow with this key creates the run; every later
   * one returns a handle to that run (`handle.deduplicated`), also when the starts are concurrent.
   */
  readonly idempotencyKey?: string;
  /**
   * An integer from -1000000 to 1000000 [0]: among the flow's ready tasks, those of runs with a higher
   * priority are claimed first (not preemptive: tasks already running go on). A child run started by
   * a subflow step gets its parent's priority.
   */
  readonly priority?: number;
}

/** Options of `FlowClient.startMany()`. */
export interface StartManyOptions {
  /** One id (a UUID) per input, in the same order [chosen by the engine]. */
  readonly runIds?: readonly string[];
  /** Start the runs inside this transaction: they exist only if the transaction commits. */
  readonly manager?: EntityManager;
  /** The priority of every run of the batch, as StartRunOptions.priority [0]. */
  readonly priority?: number;
}

/** Options of `wait()`. */
export interface WaitOptions {
  /** Reject with WaitTimeoutError after this many milliseconds [wait as long as it takes]. */
  readonly timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
}

/** A run that completed: what `wait()` resolves with. */
export interface CompletedRun<TOutput = unknown, TInput = unknown> {
  readonly runId: string;
  readonly flowSlug: string;
  readonly status: 'completed';
  readonly input: TInput;
  /** One key per leaf step (a step no other step depends on) that completed, holding its output. */
  readonly output: TOutput;
  readonly startedAt: Date;
  readonly completedAt: Date;
}

export type RunStatusValue = 'started' | 'completed' | 'failed' | 'cancelled';
export type StepStatusValue = 'created' | 'started' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export type TaskStatusValue = 'queued' | 'started' | 'completed' | 'failed' | 'cancelled';

export interface TaskSnapshot {
  readonly taskIndex: number;
  readonly status: TaskStatusValue;
  readonly attemptsCount: number;
  readonly errorMessage: string | null;
}

export interface StepSnapshot {
  readonly stepSlug: string;
  readonly status: StepStatusValue;
  readonly output: unknown;
  readonly errorMessage: string | null;
  readonly skipReason: string | null;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly failedAt: Date | null;
  readonly skippedAt: Date | null;
  readonly cancelledAt: Date | null;
  /** A signal step waiting for its signal: the signal's name (`FlowClient.signal()` delivers it); else null. */
  readonly waitingForSignal: string | null;
  readonly tasks: readonly TaskSnapshot[];
}

/** A run with its step states and tasks: what `getRun()` returns. */
export interface RunSnapshot {
  readonly runId: string;
  /** The flow the run runs on: with versions under an alias, the version (e.g. 'order_v2'). */
  readonly flowSlug: string;
  /** The alias of the run's flow (`@Flow({ alias })`, e.g. 'order'), or null when it has none. */
  readonly alias: string | null;
  readonly status: RunStatusValue;
  readonly input: unknown;
  readonly output: unknown;
  readonly startedAt: Date;
  readonly completedAt: Date | null;
  readonly failedAt: Date | null;
  readonly cancelledAt: Date | null;
  /** The reason given to cancel(), when cancelled with one. */
  readonly cancelReason: string | null;
  /** The priority it was started with (StartRunOptions.priority; 0 by default). */
  readonly priority: number;
  /** The key of its flow's per-key concurrency limit (`@Flow({ concurrencyKey })`), or null. */
  readonly concurrencyKey: string | null;
  /**
   * True while the run waits for a slot of its key's concurrency limit (that many runs of the key are
   * in progress): none of its steps has started; it starts when a run of the key ends.
   */
  readonly waitingForSlot: boolean;
  /** Subflows: the task of another run that started this run as its child, or null. */
  readonly parent: ParentTaskReference | null;
  /**
   * Subflows: the runs this run's subflow steps started, by step and task index, oldest first within
   * a task (a retried task starts a new child run).
   */
  readonly children: readonly ChildRunSummary[];
  /** In step order. */
  readonly steps: readonly StepSnapshot[];
}

/** The task of a parent run that started a child run (`@Step({ subflow })`). */
export interface ParentTaskReference {
  readonly runId: string;
  readonly stepSlug: string;
  readonly taskIndex: number;
}

/** A child run started by a subflow step of a run (`RunSnapshot.children`). */
export interface ChildRunSummary {
  readonly runId: string;
  readonly flowSlug: string;
  /** The parent's subflow step that started it. */
  readonly stepSlug: string;
  /** Its task index (the element of a map step; 0 for a single step). */
  readonly taskIndex: number;
  readonly status: RunStatusValue;
}

export type RunEventType =
  | 'run:started'
  | 'run:completed'
  | 'run:failed'
  /** The run was deleted with its flow (delete_flow_and_data, compilation 'recompile'). */
  | 'run:deleted'
  /** FlowClient.cancel(): `reason` holds the reason given. */
  | 'run:cancelled'
  /** FlowClient.retry(): the run started again (`from_step` when given). */
  | 'run:retried'
  /**
   * The run is over its key's concurrency limit (`@Flow({ concurrencyKey })`): it waits, none of its
   * steps started, until a run of the key (`concurrency_key`) ends.
   */
  | 'run:concurrency_limited'
  /** A run that waited for a slot of its key's concurrency limit got one: its steps start. */
  | 'run:admitted'
  | 'step:started'
  | 'step:completed'
  | 'step:failed'
  | 'step:skipped'
  | 'step:cancelled'
  /** A signal step started and waits for its signal (`signal_name`). */
  | 'step:waiting'
  /** A signal step received its signal (`signal_name`): its task is queued with the payload. */
  | 'step:signalled'
  | 'task:retrying'
  /** A task of a step with delayUntil went to sleep until `sleep_until` (durable sleep). */
  | 'task:sleeping'
  /** A task of a subflow step started its child run (`child_run_id`, `child_flow_slug`) and waits for it. */
  | 'task:waiting_for_child'
  /** A task was claimed over its flow's rate limit: it waits, not started, until `visible_at`. */
  | 'task:rate_limited';

/** An event of a run, as the engine emits it (snake_case, like the tables). */
export interface RunEvent {
  readonly event_type: RunEventType;
  readonly run_id: string;
  readonly flow_slug: string;
  /** Step events, task events, and run:failed (the step that failed the run). */
  readonly step_slug?: string;
  readonly status: string;
  /** run:completed and step:completed, unless too large for a notification (then output_omitted). */
  readonly output?: unknown;
  readonly output_omitted?: boolean;
  readonly error_message?: string;
  readonly skip_reason?: string;
  /** task:retrying: which task, its attempt that failed, and when the next attempt may start. */
  readonly task_index?: number;
  readonly attempt?: number;
  readonly retry_at?: string;
  /** task:sleeping: when the task wakes (ISO 8601). */
  readonly sleep_until?: string;
  /** task:rate_limited: when the rate limit's next window starts and the task may start (ISO 8601). */
  readonly visible_at?: string;
  /** step:waiting and step:signalled: the signal's name. */
  readonly signal_name?: string;
  /** task:waiting_for_child: the child run the task started and waits for, and its flow. */
  readonly child_run_id?: string;
  readonly child_flow_slug?: string;
  /** run:cancelled: the reason given to cancel(); run:retried: the step it re-ran from. */
  readonly reason?: string;
  readonly from_step?: string;
  /** Run events of a run started with a concurrency key (`@Flow({ concurrencyKey })`): the key. */
  readonly concurrency_key?: string;
  /** When the event happened (ISO 8601). */
  readonly at: string;
  /** True for events reconstructed from the run's state (those that happened before the subscription). */
  readonly replayed?: boolean;
}

export type RunEventListener = (event: RunEvent) => void;

/** Options of `run.on()`. */
export interface RunEventOptions {
  /** Receives the error when the subscription cannot be made [the error is logged with its stack]. */
  readonly onError?: (error: unknown) => void;
}

/** What `run.on()` returns: the function that unsubscribes, with the subscription's promise. */
export type RunEventSubscription = (() => void) & {
  /** Resolves when the subscription is active; rejects when it cannot be made (see RunEventOptions). */
  readonly subscribed: Promise<void>;
};
