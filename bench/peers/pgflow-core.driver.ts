/**
 * A SQL-only driver of pgflow's engine (@pgflow/core), the counterpart of ../engine/engine.driver.ts
 * on the same client library (node-postgres), no handler work, no polling wait: read up to a batch
 * of messages (pgmq.read), start their tasks (pgflow.start_tasks), then complete each task with its
 * own pgflow.complete_task (pgflow's engine has no batched completion). A task's output is 1.
 */
import type pg from 'pg';

const VISIBILITY_SECONDS = 30;

export class PgflowCoreDriver {
  statements = 0;

  constructor(
    private readonly client: pg.Client,
    private readonly flowSlug: string,
    private readonly workerId: string,
    private readonly batch = 100,
  ) {}

  /** Completes up to `budget` tasks; returns how many it completed (0: none left). */
  async work(budget: number): Promise<number> {
    let completed = 0;
    while (completed < budget) {
      this.statements += 1;
      const { rows: messages } = await this.client.query<{ msg_id: string }>(
        'select msg_id from pgmq.read($1, $2, $3)',
        [this.flowSlug, VISIBILITY_SECONDS, Math.min(this.batch, budget - completed)],
      );
      if (messages.length === 0) break;
      this.statements += 1;
      const { rows: tasks } = await this.client.query<{ run_id: string; step_slug: string; task_index: number }>(
        'select run_id, step_slug, task_index from pgflow.start_tasks($1, $2::bigint[], $3::uuid)',
        [this.flowSlug, messages.map((m) => m.msg_id), this.workerId],
      );
      for (const task of tasks) {
        this.statements += 1;
        await this.client.query(`select pgflow.complete_task($1::uuid, $2, $3, '1'::jsonb)`, [
          task.run_id,
          task.step_slug,
          task.task_index,
        ]);
      }
      completed += tasks.length;
    }
    return completed;
  }
}
