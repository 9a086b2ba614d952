/**
 * The soak's workers and faults. Three worker slots, each one worker process at a time; the faults
 * (a worker SIGKILLed then replaced, every connection terminated, the server restarted) happen one
 * at a time, in one sequence, so that no worker is ever (re)started while the server is down: a
 * replacement is ready before the next fault begins. A worker that still fails to boot (the
 * server refused it) is started again until it is ready, and counted. Slot 0 is never SIGKILLed,
 * so that one worker lives through the whole soak and its memory can be compared over time.
 */
import type { RestartablePostgres } from './restartable-postgres.ts';
import type { SoakLoad, Sql } from './soak-load.ts';
import type { WorkerProcess, WorkerProcesses, WorkerSpec } from './worker-processes.ts';

export type FaultKind = 'sigkill' | 'terminate' | 'restart';

export interface Recovery {
  readonly kind: FaultKind;
  /** Seconds since the soak began. */
  readonly at: number;
  /** Seconds from the fault (for a restart: from the server being back) to the first task completed after it. */
  firstTaskSeconds?: number;
  /** Seconds from the fault until a second completed at least half the tasks of an average second before it. */
  halfRateSeconds?: number;
  /** sigkill: tasks the victim had started, and seconds until the last of them completed elsewhere. */
  orphans?: number;
  orphansDoneSeconds?: number;
  /** restart: seconds the server was down; terminate: backends terminated. */
  outageSeconds?: number;
  terminated?: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SoakChaos {
  readonly slots: WorkerProcess[] = [];
  readonly recoveries: Recovery[] = [];
  /** Every worker process that lived, by label, with its pid: for the RSS figures. */
  readonly everyWorker: WorkerProcess[] = [];
  /** Boots that failed and were tried again. */
  bootRetries = 0;
  /** Workers that exited although the soak did not kill them. */
  unexpectedExits: string[] = [];
  private readonly killed = new Set<WorkerProcess>();
  private readonly watchers: Array<Promise<void>> = [];
  private generation = 0;

  constructor(
    private readonly workers: WorkerProcesses,
    private readonly server: RestartablePostgres,
    private readonly db: Sql,
    private readonly load: SoakLoad,
    private readonly spec: Omit<WorkerSpec, 'label'>,
    private readonly began: number,
  ) {}

  async startWorkers(count: number): Promise<void> {
    for (let slot = 0; slot < count; slot += 1) this.slots.push(await this.startWorker(slot));
  }

  /**
   * The faults, one after the other, the i-th due near (i + 1) × seconds / (faults + 1) after
   * `from` (epoch ms), with some jitter. Every fault happens, late if the ones before it took long.
   */
  async run(from: number, seconds: number, faults: readonly FaultKind[]): Promise<void> {
    const gap = (seconds * 1000) / (faults.length + 1);
    for (const [i, fault] of faults.entries()) {
      const due = from + (i + 1) * gap + (Math.random() - 0.5) * 0.6 * gap;
      if (due > Date.now()) await pause(due - Date.now());
      await this.replaceUnexpectedlyExited();
      if (fault === 'sigkill') await this.sigkill();
      else if (fault === 'terminate') await this.terminate();
      else await this.restartServer();
    }
    await this.replaceUnexpectedlyExited();
  }

  /** Waits for the recovery measurements still running (orphans completing). */
  async settle(): Promise<void> {
    await Promise.all(this.watchers);
  }

  counts(): Record<FaultKind, number> {
    const counts = { sigkill: 0, terminate: 0, restart: 0 };
    for (const recovery of this.recoveries) counts[recovery.kind] += 1;
    return counts;
  }

  private async startWorker(slot: number): Promise<WorkerProcess> {
    for (;;) {
      this.generation += 1;
      const worker = this.workers.spawn({ ...this.spec, label: `slot${slot}-${this.generation}` });
      try {
        await worker.ready(180_000);
        this.everyWorker.push(worker);
        void worker.exited.then(() => {
          if (!this.killed.has(worker)) this.unexpectedExits.push(`${worker.label} (pid ${worker.pid})`);
        });
        return worker;
      } catch (error) {
        this.killed.add(worker);
        worker.signal('SIGKILL');
        await worker.exited;
        this.bootRetries += 1;
        if (this.bootRetries > 20) throw error;
        await pause(1_000);
      }
    }
  }

  private async replaceUnexpectedlyExited(): Promise<void> {
    for (let slot = 0; slot < this.slots.length; slot += 1) {
      if (!(this.slots[slot] as WorkerProcess).running) this.slots[slot] = await this.startWorker(slot);
    }
  }

  private async sigkill(): Promise<void> {
    const slot = 1 + Math.floor(Math.random() * (this.slots.length - 1));
    const victim = this.slots[slot] as WorkerProcess;
    const recovery: Recovery = { kind: 'sigkill', at: this.since() };
    this.recoveries.push(recovery);
    this.killed.add(victim);
    const killedAt = await victim.killNow();
    // A statement the victim sent before it died still commits: its started tasks are the ones
    // left started once its backends finished.
    await pause(2_000);
    const orphans = await this.retrying(() =>
      this.db.query<{ run_id: string; step_slug: string; task_index: number }>(
        `select t.run_id, t.step_slug, t.task_index from pgflow.step_tasks t
           join pgflow.workers w on w.worker_id = t.last_worker_id
          where t.status = 'started' and w.function_name like '%:' || $1::text`,
        [victim.pid],
      ),
    );
    recovery.orphans = orphans.length;
    this.watch(recovery, killedAt, orphans);
    this.slots[slot] = await this.startWorker(slot);
  }

  private async terminate(): Promise<void> {
    const recovery: Recovery = { kind: 'terminate', at: this.since() };
    this.recoveries.push(recovery);
    const at = Date.now();
    const [row] = await this.retrying(() =>
      this.db.query<{ n: number }>(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'pgflow test'`,
      ),
    );
    recovery.terminated = row?.n ?? 0;
    this.watch(recovery, at, []);
  }

  private async restartServer(): Promise<void> {
    const recovery: Recovery = { kind: 'restart', at: this.since() };
    this.recoveries.push(recovery);
    await this.load.hold();
    const stoppedAt = Date.now();
    await this.server.stop();
    // Down until every worker met the outage (a poll failed), or 5 s.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !this.slots.every((w) => w.logs(['error'], stoppedAt).length > 0)) await pause(50);
    await this.server.start();
    const backAt = Date.now();
    recovery.outageSeconds = (backAt - stoppedAt) / 1000;
    this.load.resume();
    this.watch(recovery, backAt, []);
  }

  /** Measures, in the background, the first completion after `from` and the orphans' completion. */
  private watch(recovery: Recovery, from: number, orphans: ReadonlyArray<{ run_id: string }>): void {
    const keys = JSON.stringify(orphans);
    this.watchers.push(
      (async () => {
        const deadline = Date.now() + 600_000;
        while (Date.now() < deadline) {
          try {
            if (recovery.firstTaskSeconds === undefined) {
              const [row] = await this.db.query<{ first: Date | null }>(
                `select min(at) as first from public.reliability_completions
                  where kind = 'task' and at > to_timestamp($1::double precision / 1000)
                    and id > (select coalesce(max(id), 0) - 200000 from public.reliability_completions)`,
                [from],
              );
              if (row?.first) recovery.firstTaskSeconds = (row.first.getTime() - from) / 1000;
            }
            if (recovery.orphans && recovery.orphansDoneSeconds === undefined) {
              const [row] = await this.db.query<{ left: number; last: Date | null }>(
                `select count(*) filter (where c.id is null)::int as left, max(c.at) as last
                   from jsonb_to_recordset($1::jsonb) as k(run_id uuid, step_slug text, task_index int)
                   left join public.reliability_completions c
                     on c.run_id = k.run_id and c.kind = 'task' and c.step_slug = k.step_slug
                    and c.task_index = k.task_index`,
                [keys],
              );
              if (row?.left === 0 && row.last) recovery.orphansDoneSeconds = (row.last.getTime() - from) / 1000;
            }
            if (recovery.firstTaskSeconds !== undefined && (!recovery.orphans || recovery.orphansDoneSeconds)) return;
          } catch {
            // The server is down or the connection was cut: ask again.
          }
          await pause(100);
        }
      })(),
    );
  }

  private async retrying<T>(query: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await query();
      } catch (error) {
        if (attempt >= 50) throw error;
        await pause(200);
      }
    }
  }

  private since(): number {
    return Math.round((Date.now() - this.began) / 100) / 10;
  }
}
