/**
 * The SQL-only drivers of the engine benchmark: no TypeScript handler, only the statements a worker
 * sends. Two ways to drive the engine:
 * - 'report_and_claim': our worker's path, one statement per batch (pgflow._report_and_claim
 *   reports the previous batch's results and claims the next batch);
 * - 'start_tasks': pgflow's two-phase path, three statements per batch (pgmq.read,
 *   pgflow.start_tasks, pgflow.complete_tasks).
 */
import type pg from 'pg';

export type DriverPath = 'report_and_claim' | 'start_tasks';

export const WORKER_ID = '00000000-0000-4000-8000-00000000b0b0';
export const BATCH = 100;
const VISIBILITY_SECONDS = 30;

interface Claimed {
  run_id: string | null;
  step_slug: string;
  task_index: number;
  msg_id: string;
  input: unknown;
}

interface Completion {
  run_id: string;
  step_slug: string;
  task_index: number;
  output: unknown;
}

/** One connection driving one flow's queue; holds the results it has not reported yet. */
export class EngineDriver {
  /** Statements sent, for statements per task. */
  statements = 0;
  private pending: Completion[] = [];

  constructor(
    private readonly client: pg.Client,
    private readonly flowSlug: string,
    private readonly path: DriverPath,
    private readonly batch = BATCH,
  ) {}

  /** Completes up to `budget` tasks, claiming as needed; returns how many it completed (0: none left). */
  async work(budget: number): Promise<number> {
    let completed = 0;
    for (;;) {
      const quantity = Math.min(this.batch, budget - completed - this.pending.length);
      if (quantity <= 0) break;
      const reported = this.pending;
      this.pending = [];
      const claimed = await this.cycle(reported, quantity);
      completed += reported.length;
      if (claimed.length === 0) break;
      // A no-op handler: its output is its input.
      this.pending = claimed.map((task) => ({
        run_id: task.run_id as string,
        step_slug: task.step_slug,
        task_index: task.task_index,
        output: task.input,
      }));
    }
    if (this.pending.length > 0) {
      const reported = this.pending;
      this.pending = [];
      this.statements += 1;
      await this.client.query('select pgflow.complete_tasks($1::jsonb)', [JSON.stringify(reported)]);
      completed += reported.length;
    }
    return completed;
  }

  /** Reports `results` and claims up to `quantity` tasks. */
  private async cycle(results: readonly Completion[], quantity: number): Promise<Claimed[]> {
    if (this.path === 'report_and_claim') {
      this.statements += 1;
      const { rows } = await this.client.query<Claimed>(
        `select run_id, step_slug, task_index, msg_id, input
           from pgflow._report_and_claim($1::jsonb, '[]'::jsonb, $2, $3, $4, $5::uuid, '{}'::uuid[])`,
        [JSON.stringify(results), this.flowSlug, quantity, VISIBILITY_SECONDS, WORKER_ID],
      );
      return rows.filter((row) => row.run_id !== null);
    }
    if (results.length > 0) {
      this.statements += 1;
      await this.client.query('select pgflow.complete_tasks($1::jsonb)', [JSON.stringify(results)]);
    }
    this.statements += 1;
    const { rows: messages } = await this.client.query<{ msg_id: string }>('select msg_id from pgmq.read($1, $2, $3)', [
      this.flowSlug,
      VISIBILITY_SECONDS,
      quantity,
    ]);
    if (messages.length === 0) return [];
    this.statements += 1;
    const { rows } = await this.client.query<Claimed>(
      'select run_id, step_slug, task_index, msg_id, input from pgflow.start_tasks($1, $2::bigint[], $3::uuid)',
      [this.flowSlug, messages.map((m) => m.msg_id), WORKER_ID],
    );
    return rows;
  }
}
