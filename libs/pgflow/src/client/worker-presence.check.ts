import { Inject, Injectable, Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../pgflow-options.ts';

/** A flow's worker presence is looked up again no sooner than this after the last look. */
const RECHECK_MS = 60_000;
/** Heartbeats a worker may miss before it counts as gone. */
const MISSED_BEATS = 3;
/** Shortest silence after which a worker counts as gone (six default heartbeats). */
const MIN_SILENCE_SECONDS = 30;

/**
 * Warns when runs are started for a flow that no live worker serves (no row of pgflow.workers for
 * its queue that is not stopped and heartbeat recently), since such runs wait until one comes:
 * once per flow and process, whatever the number of starts. The look-up runs beside the start,
 * never delays it, and happens at most once a minute per flow, so a start costs no extra statement.
 */
@Injectable()
export class WorkerPresenceCheck {
  private readonly logger = new Logger('FlowClient');
  private readonly lastChecked = new Map<string, number>();
  private readonly warned = new Set<string>();
  private readonly silenceSeconds: number;

  constructor(
    private readonly database: PgflowDatabase,
    @Inject(PGFLOW_MODULE_OPTIONS) options: ResolvedPgflowOptions,
  ) {
    // Other processes' heartbeat intervals are unknown: this process's one stands for them.
    this.silenceSeconds = Math.max(MIN_SILENCE_SECONDS, (MISSED_BEATS * options.worker.heartbeatIntervalMs) / 1000);
  }

  /** Called after runs of `flowSlug` were started. */
  started(flowSlug: string): void {
    const now = Date.now();
    if (this.warned.has(flowSlug) || now - (this.lastChecked.get(flowSlug) ?? -Infinity) < RECHECK_MS) return;
    this.lastChecked.set(flowSlug, now);
    void this.check(flowSlug);
  }

  private async check(flowSlug: string): Promise<void> {
    let served: boolean;
    try {
      const [row] = await this.database.query<{ served: boolean }>(sql.liveWorkerServes, [
        flowSlug,
        this.silenceSeconds,
      ]);
      served = row?.served ?? true;
    } catch (error) {
      // Only a warning was at stake; the start itself succeeded.
      this.logger.debug(`Could not look up the workers of '${flowSlug}': ${(error as Error).message}`);
      return;
    }
    if (served || this.warned.has(flowSlug)) return;
    this.warned.add(flowSlug);
    this.logger.warn(
      `No running worker serves flow '${flowSlug}' (none in pgflow.workers has beaten in the last ` +
        `${this.silenceSeconds} s): its runs wait in the queue until one starts. Start a process whose PgflowModule ` +
        'has the worker enabled and serves this flow (worker.flows, if set, must include it). Said once per flow.',
    );
  }
}
