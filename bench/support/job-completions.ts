/**
 * When a peer's job is complete as the database sees it: the workload installs a trigger (its SQL
 * given here) that notifies `bench_job_done` with the job's id, and `wait(id)` resolves on that
 * notification, also when it came before the id was known (the job finished before the call that
 * enqueued it returned).
 */
import pg from 'pg';

export class JobCompletions {
  private readonly waiting = new Map<string, () => void>();
  private readonly early = new Set<string>();

  private constructor(private readonly listener: pg.Client) {
    listener.on('notification', (message) => {
      const id = message.payload ?? '';
      const resolve = this.waiting.get(id);
      if (resolve) resolve();
      else this.early.add(id);
    });
  }

  /** Connects, runs `setupSql` (the trigger and its function), and listens. */
  static async listen(url: string, setupSql: readonly string[]): Promise<JobCompletions> {
    const listener = new pg.Client({ connectionString: url, application_name: 'bench listener' });
    await listener.connect();
    for (const statement of setupSql) await listener.query(statement);
    const completions = new JobCompletions(listener);
    await listener.query('listen bench_job_done');
    return completions;
  }

  /** Resolves when job `id` is complete; rejects naming `label` after `timeoutMs`. */
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

  end(): Promise<void> {
    return this.listener.end();
  }
}
