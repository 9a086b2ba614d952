import { Injectable } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { PgflowWorker } from '../worker/pgflow-worker.service.ts';
import type { WorkerState } from '../worker/worker-state.ts';

/** How late the worker's heartbeat may be, in heartbeat intervals, before the check says down. */
const LATE_HEARTBEAT_INTERVALS = 2;
/** How long the database has to answer the check's one statement by default. */
const DEFAULT_TIMEOUT_MS = 2_000;

/** What {@link PgflowHealth.check} checks beyond the database and the worker. */
export interface PgflowHealthOptions {
  /** Down when a served flow's oldest visible message is older than this many seconds [not checked]. */
  readonly maxQueueAgeSeconds?: number;
  /** Down when the database holds more stalled tasks than this [not checked]. */
  readonly maxStalledTasks?: number;
  /** Down when the database has not answered within this many milliseconds [2000]. */
  readonly timeoutMs?: number;
}

/** The state of this process's worker, as the health check saw it. */
export interface PgflowWorkerHealth {
  /** The worker's lifecycle state; `disabled` when `worker.enabled` is false. */
  readonly state: WorkerState | 'disabled';
  /** Seconds since its last heartbeat in pgflow.workers (null: unknown). */
  readonly heartbeatAgeSeconds: number | null;
  readonly heartbeatIntervalSeconds: number;
}

/** One health check: `healthy`, and when not, the `problems` that made it so. */
export interface PgflowHealthReport {
  readonly healthy: boolean;
  /** One sentence per failed check (empty when healthy). */
  readonly problems: readonly string[];
  /** Whether the database answered within the timeout. */
  readonly database: 'up' | 'down';
  readonly worker: PgflowWorkerHealth;
  /** Per served flow: seconds since its oldest visible message was sent (null: none visible). */
  readonly queues: Readonly<Record<string, number | null>>;
  /** Started tasks of any flow past their timeout + 30 s, which the workers' sweep requeues (null: unknown). */
  readonly stalledTasks: number | null;
}

interface HealthRow {
  heartbeat_age: number | null;
  stalled_tasks: number;
  queue_ages: Array<number | null>;
}

/**
 * The health of this process's PgflowModule registration: whether its database answers, whether its
 * worker runs and beats, how old the oldest waiting message of each served flow is, and how many tasks
 * are stalled. It reads the engine only (one statement per check). {@link PgflowHealthIndicator} (from
 * `nestjs-pgflow/health`) turns it into a @nestjs/terminus health indicator; this class has no
 * dependency on terminus.
 */
@Injectable()
export class PgflowHealth {
  constructor(
    private readonly database: PgflowDatabase,
    private readonly worker: PgflowWorker,
  ) {}

  /** Checks now; never throws for an unhealthy state (bad options throw InvalidOptionsError). */
  async check(options: PgflowHealthOptions = {}): Promise<PgflowHealthReport> {
    assertValidHealthOptions(options);
    const flows = this.worker.servedFlows;
    const intervalSeconds = this.worker.heartbeatIntervalMs / 1000;
    const state: PgflowWorkerHealth['state'] =
      !this.worker.enabled && this.worker.state === 'created' ? 'disabled' : this.worker.state;
    const problems: string[] = [];
    let row: HealthRow | undefined;
    try {
      row = await withTimeout(
        this.database.query<HealthRow>(sql.healthState(flows), [this.worker.workerIds]).then((rows) => rows[0]),
        options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
    } catch (error) {
      problems.push(`The database did not answer: ${(error as Error).message}`);
    }

    if (state !== 'disabled' && state !== 'running') problems.push(`The worker is ${state}, not running.`);
    const heartbeatAge = row?.heartbeat_age ?? null;
    if (state === 'running' && heartbeatAge !== null && heartbeatAge > LATE_HEARTBEAT_INTERVALS * intervalSeconds) {
      problems.push(
        `The worker's last heartbeat is ${heartbeatAge.toFixed(1)} s old, more than ${LATE_HEARTBEAT_INTERVALS} ` +
          `heartbeat intervals (${intervalSeconds} s each).`,
      );
    }
    const queues: Record<string, number | null> = {};
    flows.forEach((slug, index) => {
      const age = row?.queue_ages[index] ?? null;
      queues[slug] = age;
      if (age !== null && options.maxQueueAgeSeconds !== undefined && age > options.maxQueueAgeSeconds) {
        problems.push(
          `The oldest visible message of flow '${slug}' is ${age.toFixed(1)} s old ` +
            `(maxQueueAgeSeconds: ${options.maxQueueAgeSeconds}).`,
        );
      }
    });
    const stalledTasks = row?.stalled_tasks ?? null;
    if (stalledTasks !== null && options.maxStalledTasks !== undefined && stalledTasks > options.maxStalledTasks) {
      problems.push(`${stalledTasks} task(s) are stalled (maxStalledTasks: ${options.maxStalledTasks}).`);
    }
    return {
      healthy: problems.length === 0,
      problems,
      database: row === undefined ? 'down' : 'up',
      worker: { state, heartbeatAgeSeconds: heartbeatAge, heartbeatIntervalSeconds: intervalSeconds },
      queues,
      stalledTasks,
    };
  }
}

function assertValidHealthOptions(options: PgflowHealthOptions): void {
  const limits: Array<[keyof PgflowHealthOptions, number, string]> = [
    ['maxQueueAgeSeconds', 0, 'a number of seconds, 0 or more'],
    ['maxStalledTasks', 0, 'an integer, 0 or more'],
    ['timeoutMs', 1, 'an integer number of milliseconds, 1 or more'],
  ];
  for (const [name, min, expected] of limits) {
    const value = options[name];
    const integer = name !== 'maxQueueAgeSeconds';
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new InvalidOptionsError(name, value, expected, { subject: 'health check option' });
    }
  }
}

/** `promise`, or a rejection once `ms` have passed. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // The statement may still fail after the timeout: nobody waits for it then.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
