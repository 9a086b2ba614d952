/**
 * A worker that speaks pgflow 0.14's SQL protocol, as pgflow's own edge worker does: register in
 * pgflow.workers and track_worker_function, read messages with pgmq.read_with_poll, start their
 * tasks with pgflow.start_tasks, then report each with pgflow.complete_task or pgflow.fail_task,
 * and mark_worker_stopped at the end. Written from pgflow's documented protocol, for the interop
 * tests only.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface ProtocolTask {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly input: unknown;
  readonly flow_input: unknown;
}

/** A step handler: receives the task (input, flow_input) and returns the output or throws. */
export type ProtocolHandler = (task: ProtocolTask) => unknown;

export class PgflowProtocolWorker {
  readonly workerId = randomUUID();

  constructor(
    private readonly client: pg.ClientBase,
    private readonly flowSlug: string,
    private readonly handlers: Record<string, ProtocolHandler>,
  ) {}

  async register(functionName: string): Promise<void> {
    await this.client.query('insert into pgflow.workers (queue_name, worker_id, function_name) values ($1, $2, $3)', [
      this.flowSlug,
      this.workerId,
      functionName,
    ]);
    await this.client.query('select pgflow.track_worker_function($1)', [functionName]);
  }

  /** Polls and runs tasks until `done()` says so (checked after each poll). */
  async runUntil(done: () => Promise<boolean>, maxPolls = 200): Promise<void> {
    for (let poll = 0; poll < maxPolls; poll++) {
      const { rows: messages } = await this.client.query<{ msg_id: string }>(
        'select msg_id from pgmq.read_with_poll($1, 30, 10, 1, 50)',
        [this.flowSlug],
      );
      if (messages.length > 0) {
        const { rows: tasks } = await this.client.query<ProtocolTask>(
          'select * from pgflow.start_tasks($1, $2::bigint[], $3::uuid)',
          [this.flowSlug, messages.map((m) => m.msg_id), this.workerId],
        );
        for (const task of tasks) await this.execute(task);
      }
      if (await done()) return;
    }
    throw new Error(`The protocol worker of ${this.flowSlug} did not finish in ${maxPolls} polls.`);
  }

  async stop(): Promise<void> {
    await this.client.query('select pgflow.mark_worker_stopped($1::uuid)', [this.workerId]);
  }

  private async execute(task: ProtocolTask): Promise<void> {
    const handler = this.handlers[task.step_slug];
    if (handler === undefined) throw new Error(`No handler for step ${task.step_slug}.`);
    let output: unknown;
    try {
      output = await handler(task);
    } catch (error) {
      await this.client.query('select pgflow.fail_task($1, $2, $3, $4)', [
        task.run_id,
        task.step_slug,
        task.task_index,
        (error as Error).message,
      ]);
      return;
    }
    await this.client.query('select pgflow.complete_task($1, $2, $3, $4::jsonb)', [
      task.run_id,
      task.step_slug,
      task.task_index,
      JSON.stringify(output ?? null),
    ]);
  }
}
