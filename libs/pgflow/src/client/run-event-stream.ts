import { Logger } from '@nestjs/common';
import { runChannel } from '../db/engine.sql.ts';
import type { NotificationListener } from '../db/notification-listener.ts';
import type { RunEvent, RunEventListener, RunEventType } from './run.types.ts';

/** The state a replay is reconstructed from (see FlowClient.readReplayState). */
export interface ReplayState {
  readonly run: {
    readonly flowSlug: string;
    readonly status: string;
    readonly output: unknown;
    readonly startedAt: Date;
    readonly completedAt: Date | null;
    readonly failedAt: Date | null;
    readonly failedStep: string | null;
    readonly errorMessage: string | null;
    readonly cancelledAt?: Date | null;
    readonly cancelReason?: string | null;
    /** Waiting for a slot of its key's concurrency limit, and that key. */
    readonly waitingForSlot?: boolean;
    readonly concurrencyKey?: string | null;
  };
  readonly steps: ReadonlyArray<{
    readonly stepSlug: string;
    readonly status: string;
    readonly output: unknown;
    readonly errorMessage: string | null;
    readonly skipReason: string | null;
    readonly startedAt: Date | null;
    readonly completedAt: Date | null;
    readonly failedAt: Date | null;
    readonly skippedAt: Date | null;
    readonly cancelledAt?: Date | null;
    /** A signal step waiting for its signal: the signal's name. */
    readonly waitingForSignal?: string | null;
  }>;
  /** Tasks that failed at least one attempt: status, attempts made, the last error. */
  readonly retriedTasks: ReadonlyArray<{
    readonly stepSlug: string;
    readonly taskIndex: number;
    readonly status: string;
    readonly attemptsCount: number;
    readonly errorMessage: string | null;
  }>;
}

/**
 * The events of one run for `on()` subscribers: live notifications, preceded by the events that
 * happened before the subscription, reconstructed from the run's state (and again after a lost
 * connection). Each event is delivered once. A replayed task:retrying event carries the task's
 * last error (the engine keeps only that one); a live one the error of its own attempt.
 */
export class RunEventStream {
  private readonly logger = new Logger('PgflowRunEvents');
  private readonly subscribers = new Set<{ type: RunEventType | '*'; listener: RunEventListener }>();
  private readonly delivered = new Set<string>();
  /** Every event delivered so far, in order: a subscriber added later receives them first. */
  private readonly history: RunEvent[] = [];
  private buffered: RunEvent[] | undefined = [];
  private unsubscribe: (() => Promise<void>) | undefined;
  private stopReconnect: (() => void) | undefined;

  constructor(
    readonly runId: string,
    private readonly listener: NotificationListener,
    private readonly readState: (runId: string) => Promise<ReplayState | undefined>,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber and hands it, at once, the events delivered before it came. */
  add(type: RunEventType | '*', listener: RunEventListener): () => void {
    const subscriber = { type, listener };
    for (const event of this.history) this.notify(subscriber, event);
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  async open(): Promise<void> {
    this.unsubscribe = await this.listener.subscribe(runChannel(this.runId), (payload) => this.received(payload));
    this.stopReconnect = this.listener.onReconnect(() => void this.replay());
    await this.replay();
    const pending = this.buffered ?? [];
    this.buffered = undefined;
    for (const event of pending) this.deliver(event);
  }

  async close(): Promise<void> {
    this.stopReconnect?.();
    await this.unsubscribe?.();
  }

  private received(payload: string): void {
    let event: RunEvent;
    try {
      event = JSON.parse(payload) as RunEvent;
    } catch {
      return;
    }
    if (this.buffered !== undefined) this.buffered.push(event);
    else this.deliver(event);
  }

  private async replay(): Promise<void> {
    let state: ReplayState | undefined;
    try {
      state = await this.readState(this.runId);
    } catch (error) {
      this.logger.warn(`Could not read run ${this.runId} to replay its events: ${(error as Error).message}`);
      return;
    }
    if (state === undefined) return;
    for (const event of replayedEvents(this.runId, state)) this.deliver(event);
  }

  private deliver(event: RunEvent): void {
    const key =
      event.event_type === 'task:retrying'
        ? `${event.event_type}|${event.step_slug}|${event.task_index}|${event.attempt}`
        : `${event.event_type}|${event.event_type.startsWith('step:') ? event.step_slug : ''}`;
    if (this.delivered.has(key)) return;
    this.delivered.add(key);
    this.history.push(event);
    for (const subscriber of [...this.subscribers]) this.notify(subscriber, event);
  }

  private notify(subscriber: { type: RunEventType | '*'; listener: RunEventListener }, event: RunEvent): void {
    if (subscriber.type !== '*' && subscriber.type !== event.event_type) return;
    try {
      subscriber.listener(event);
    } catch (error) {
      this.logger.error(`A listener of ${event.event_type} on run ${this.runId} threw`, (error as Error)?.stack);
    }
  }
}

/** The run and step events a run's state shows happened, in time order. */
function replayedEvents(runId: string, state: ReplayState): RunEvent[] {
  const { run } = state;
  const events: Array<RunEvent & { time: number }> = [];
  const push = (time: Date | null, event: Omit<RunEvent, 'run_id' | 'flow_slug' | 'at' | 'replayed'>): void => {
    if (time === null) return;
    events.push({
      ...event,
      run_id: runId,
      flow_slug: run.flowSlug,
      at: time.toISOString(),
      replayed: true,
      time: time.getTime(),
    });
  };
  const key = run.concurrencyKey == null ? {} : { concurrency_key: run.concurrencyKey };
  push(run.startedAt, { event_type: 'run:started', status: 'started', ...key });
  if (run.waitingForSlot === true)
    push(run.startedAt, { event_type: 'run:concurrency_limited', status: 'started', ...key });
  for (const step of state.steps) {
    const base = { step_slug: step.stepSlug };
    push(step.startedAt, { ...base, event_type: 'step:started', status: 'started' });
    if (step.waitingForSignal != null) {
      push(step.startedAt, {
        ...base,
        event_type: 'step:waiting',
        status: 'started',
        signal_name: step.waitingForSignal,
      });
    }
    for (const task of state.retriedTasks.filter((t) => t.stepSlug === step.stepSlug)) {
      // A queued task's attempts all failed; otherwise its last attempt is running or ended the task.
      const failedAttempts = task.status === 'queued' ? task.attemptsCount : task.attemptsCount - 1;
      for (let attempt = 1; attempt <= failedAttempts; attempt++) {
        push(step.startedAt, {
          ...base,
          event_type: 'task:retrying',
          status: 'queued',
          task_index: task.taskIndex,
          attempt,
          error_message: task.errorMessage ?? '',
        });
      }
    }
    if (step.status === 'completed')
      push(step.completedAt, { ...base, event_type: 'step:completed', status: 'completed', output: step.output });
    if (step.status === 'failed')
      push(step.failedAt, {
        ...base,
        event_type: 'step:failed',
        status: 'failed',
        error_message: step.errorMessage ?? '',
      });
    if (step.status === 'skipped') {
      push(step.skippedAt, {
        ...base,
        event_type: 'step:skipped',
        status: 'skipped',
        skip_reason: step.skipReason ?? '',
      });
    }
    if (step.status === 'cancelled')
      push(step.cancelledAt ?? null, { ...base, event_type: 'step:cancelled', status: 'cancelled' });
  }
  if (run.status === 'completed')
    push(run.completedAt, { event_type: 'run:completed', status: 'completed', output: run.output });
  if (run.status === 'failed') {
    push(run.failedAt, {
      event_type: 'run:failed',
      status: 'failed',
      ...(run.failedStep === null ? {} : { step_slug: run.failedStep }),
      error_message: run.errorMessage ?? '',
    });
  }
  if (run.status === 'cancelled') {
    push(run.cancelledAt ?? null, {
      event_type: 'run:cancelled',
      status: 'cancelled',
      ...(run.cancelReason == null ? {} : { reason: run.cancelReason }),
    });
  }
  // Stable sort: events at the same instant keep their causal order (run before steps, started before done).
  return events.sort((a, b) => a.time - b.time).map(({ time: _time, ...event }) => event);
}
