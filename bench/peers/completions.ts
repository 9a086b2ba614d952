/**
 * Waiting for a job or run to be complete, by its id, in the latency workloads: `done(id)` may come
 * before `wait(id)` (the work finished before the call that started it returned), and is kept until
 * then. Fed by the workload itself, or by a database notification: `listen()` installs the
 * workload's trigger (its SQL given), which notifies `bench_job_done` with the job's id.
 */
import pg from 'pg';

export class Completions {
  private readonly waiting = new Map<string, () => void>();
  private readonly early = new Set<string>();
  private listener: pg.Client | undefined;

  /** Connects, runs `setupSql` (the trigger and its function), and calls done() on each notification. */
  static async listen(url: string, setupSql: readonly string[]): Promise<Completions> {
    const completions = new Completions();
    const listener = new pg.Client({ connectionString: url, application_name: 'bench listener' });
    await listener.connect();
    completions.listener = listener;
    for (const statement of setupSql) await listener.query(statement);
    listener.on('notification', (message) => completions.done(message.payload ?? ''));
    await listener.query('listen bench_job_done');
    return completions;
  }

  /** Marks `id` complete. */
  done(id: string): void {
    const resolve = this.waiting.get(id);
    if (resolve) resolve();
    else this.early.add(id);
  }

  /** Resolves when `id` is complete; rejects naming `label` after `timeoutMs`. */
  async wait(id: string, label: string, timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.waiting.set(id, resolve);
          if (this.early.delete(id)) resolve();
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${label} not done`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }

  async end(): Promise<void> {
    await this.listener?.end();
  }
}
