import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../pgflow-options.ts';
import type { ResolvedPgflowRetention } from './retention-options.ts';

const SECONDS_PER_DAY = 86_400;
/**
 * How long one batch should take. The locks of the rows a batch deletes are held until its
 * transaction ends; 50 ms leaves room under the 100 ms that concurrent work may wait.
 */
const TARGET_BATCH_MS = 50;

/** What one pass of the retention policy did. */
export interface RetentionPass {
  /** Runs deleted (with their step states, tasks and queue messages). */
  readonly runs: number;
  /** Archived queue messages deleted. */
  readonly messages: number;
  /** Schedule ticks deleted (the record of past ticks of @FlowSchedule). */
  readonly ticks: number;
  /** Batches (transactions) that deleted something. */
  readonly batches: number;
  /** The longest batch, in milliseconds, as this process timed it (its locks were held no longer). */
  readonly longestBatchMs: number;
  /** Another process was applying retention: this pass left the work to it. */
  readonly busy: boolean;
}

/**
 * Applies the `retention` option: at boot and then every `retention.intervalMs`, in a process that
 * runs a worker, it calls pgflow.apply_retention until a batch finds nothing left. Each batch is
 * one short transaction that deletes at most `batchSize` runs, fewer when batches take longer than
 * TARGET_BATCH_MS (a loaded server, runs of many tasks), so running flows keep completing
 * meanwhile; the engine lets one session at a time apply it (an advisory lock taken without
 * waiting), so with several workers one prunes and the others find it busy and wait for their next
 * pass. A failure is logged once, until a pass succeeds again.
 */
@Injectable()
export class PgflowRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PgflowRetention');
  private readonly policy: ResolvedPgflowRetention | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private failing = false;
  private stopped = false;

  constructor(
    @Inject(PGFLOW_MODULE_OPTIONS) options: ResolvedPgflowOptions,
    private readonly database: PgflowDatabase,
  ) {
    // Only processes that run a worker apply retention: an API-only process stays read-mostly.
    this.policy = options.worker.enabled ? options.retention : undefined;
  }

  onApplicationBootstrap(): void {
    if (this.policy !== undefined) this.schedule(0);
  }

  /** Stops between two batches; resolves when the pass in progress has ended. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  /** One pass now: batches until nothing is left, another process holds the lock, or shutdown. */
  async applyOnce(): Promise<RetentionPass> {
    const policy = this.policy;
    if (policy === undefined) return { runs: 0, messages: 0, ticks: 0, batches: 0, longestBatchMs: 0, busy: false };
    const keep = (days: number | undefined) => (days === undefined ? null : days * SECONDS_PER_DAY);
    const pass = { runs: 0, messages: 0, ticks: 0, batches: 0, longestBatchMs: 0, busy: false };
    // Slow start: the first batch of a connection also compiles the engine's functions and plans their
    // statements, and a run's cost depends on its steps; the size then follows the time batches take.
    let size = Math.max(1, Math.floor(policy.batchSize / 8));
    while (!this.stopped) {
      const started = performance.now();
      const [row] = await this.database.query<{
        result: { busy: boolean; runs: number; messages: number; ticks: number };
      }>(sql.applyRetention, [keep(policy.completedRuns), keep(policy.failedRuns), size]);
      const elapsed = performance.now() - started;
      if (elapsed > TARGET_BATCH_MS) size = Math.max(1, Math.floor(size / 2));
      else if (elapsed < TARGET_BATCH_MS / 2) size = Math.min(policy.batchSize, size * 2);
      const result = row?.result ?? { busy: false, runs: 0, messages: 0, ticks: 0 };
      if (result.busy) {
        pass.busy = true;
        break;
      }
      if (result.runs + result.messages + result.ticks === 0) break;
      pass.runs += result.runs;
      pass.messages += result.messages;
      pass.ticks += result.ticks;
      pass.batches += 1;
      pass.longestBatchMs = Math.max(pass.longestBatchMs, Math.round(elapsed));
    }
    return pass;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.current = this.pass().finally(() => {
        if (!this.stopped) this.schedule(this.policy?.intervalMs ?? 0);
      });
    }, delayMs);
  }

  private async pass(): Promise<void> {
    try {
      const pass = await this.applyOnce();
      if (pass.batches > 0) {
        this.logger.log(
          `Retention: deleted ${pass.runs} run(s), ${pass.messages} archived message(s) and ${pass.ticks} ` +
            `schedule tick(s) in ${pass.batches} ` +
            `batch(es) (longest ${pass.longestBatchMs} ms).`,
        );
      }
      this.failing = false;
    } catch (error) {
      if (!this.failing && !this.stopped) {
        this.logger.warn(`Applying retention failed: ${(error as Error).message}. Trying again next interval.`);
      }
      this.failing = true;
    }
  }
}
