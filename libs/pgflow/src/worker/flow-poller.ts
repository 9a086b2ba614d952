import type { FlowDefinition } from '../definition/flow-definition.ts';
import type { ResolvedPgflowWorkerOptions } from '../pgflow-options.ts';
import type { ClaimedTask } from './task-execution.ts';

/** One served flow: its queue, its worker row, and when to read its queue next. */
export interface FlowPoller {
  readonly definition: FlowDefinition;
  readonly workerId: string;
  /** Epoch ms at which to read the queue next; 0: as soon as a slot is free. */
  dueAt: number;
  /** Round trips claiming for this flow now. */
  claiming: number;
  /** The last claim got all it asked for: more tasks are likely waiting, a second claim may run. */
  backlog: boolean;
  /** Notifications of new work received (a claim that read before one arrived must not delay the next). */
  notified: number;
  /**
   * The flow in the database has a step this process's class does not define (another deployment
   * changed it): this worker no longer claims its tasks, leaving them to processes with the new code.
   */
  retired: boolean;
}

/** A poller for a flow, due at once. */
export function newPoller(definition: FlowDefinition, workerId: string): FlowPoller {
  return { definition, workerId, dueAt: 0, claiming: 0, backlog: false, notified: 0, retired: false };
}

/**
 * A row of pgflow._report_and_claim: a claimed task, or, when nothing was claimed, one row with null
 * task columns saying when the queue's next startable message becomes visible.
 */
export type ClaimRow = { [K in keyof ClaimedTask]: ClaimedTask[K] | null } & {
  readonly next_visible_at: Date | null;
  readonly db_now: Date | null;
};

/**
 * When to read a queue found empty again: when its next startable message becomes visible (a
 * delayed step, a retry), at least pollIntervalMs and at most maxPollSeconds from now (a
 * notification wakes the worker earlier when new work arrives).
 */
export function nextPollAt(row: ClaimRow | undefined, settings: ResolvedPgflowWorkerOptions): number {
  const ceiling = Math.max(settings.maxPollSeconds * 1000, settings.pollIntervalMs);
  const wait =
    row?.next_visible_at == null || row.db_now == null ? ceiling : row.next_visible_at.getTime() - row.db_now.getTime();
  return Date.now() + Math.min(ceiling, Math.max(settings.pollIntervalMs, wait));
}
