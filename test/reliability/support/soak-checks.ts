/**
 * The soak's invariants, checked while it runs and once more at the end:
 * - every run ends, completed, with the output its input implies (a failed, cancelled or vanished
 *   run, or a wrong output, is a violation);
 * - each task, step state and run completes once (the completion rows that audit.ts's triggers
 *   write: two rows for one key is a double completion);
 * - no counter below zero (runs.remaining_steps, step_states.remaining_tasks / remaining_deps);
 * - no queue message left for a run that ended (or no longer exists): seen in two checks in a row,
 *   so that a message archived by a transaction still committing is not counted.
 * Completion rows are read by id with an overlap behind the last one seen: ids are taken in order
 * but committed in any order, and a row that commits late must still be read.
 */
import type { SoakFlowSlug } from '../../processes/soak-flows.ts';
import type { SoakLoad, SoakRun, Sql } from './soak-load.ts';

const OVERLAP = 20_000;
const FLOW_SLUGS: readonly SoakFlowSlug[] = ['soak_chain', 'soak_diamond', 'soak_map', 'soak_retry', 'soak_condition'];
/** A pending run not seen ending for this long is looked up by id. */
const STALE_MS = 30_000;

export const SOAK_INSTRUMENTATION = /* sql */ `
create index if not exists reliability_completions_key
  on public.reliability_completions (run_id, kind, step_slug, task_index);
create index if not exists reliability_completions_runs on public.reliability_completions (id) where kind = 'run';
`;

export interface SoakViolations {
  readonly doubleCompletions: string[];
  readonly wrongOutputs: Array<{ runId: string; slug: string; expected: unknown; output: unknown }>;
  readonly unfinishedRuns: Array<{ runId: string; status: string }>;
  readonly negativeCounters: string[];
  readonly leftoverMessages: string[];
}

export class SoakChecker {
  readonly violations: SoakViolations = {
    doubleCompletions: [],
    wrongOutputs: [],
    unfinishedRuns: [],
    negativeCounters: [],
    leftoverMessages: [],
  };
  /** Runs seen ended: completed with their output checked, or completed but pruned before it was read. */
  completedRuns = 0;
  verifiedOutputs = 0;
  checks = 0;
  /** Checks that failed (the server was down or the connection cut); the next one reads the same rows. */
  failedChecks = 0;
  private from = 0;
  private doublesFrom = 0;
  private suspectMessages = new Set<string>();
  private reported = new Set<string>();

  constructor(
    private readonly db: Sql,
    private readonly load: SoakLoad,
  ) {}

  /** One round of the continuous checks; a failed round is counted, never thrown. */
  async check(withTables: boolean): Promise<void> {
    try {
      await this.readRunEnds();
      await this.lookUpStaleRuns();
      if (withTables) {
        await this.readDoubleCompletions();
        await this.checkCounters();
        await this.checkMessages();
      }
      this.checks += 1;
    } catch {
      this.failedChecks += 1;
    }
  }

  /** After the load stopped: reads until every pending run ended or `deadline` (epoch ms) passed. */
  async drain(deadline: number): Promise<void> {
    while (this.load.pending.size > 0 && Date.now() < deadline) {
      await this.check(false);
      if (this.load.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The whole completion table at once, the queues empty, no run left started. */
  async finalCheck(): Promise<{ leftInQueues: number; runsStillStarted: number }> {
    const doubles = await this.db.query<{ key: string }>(
      `select concat_ws('/', kind, run_id, step_slug, task_index) as key
         from public.reliability_completions group by kind, run_id, step_slug, task_index having count(*) > 1`,
    );
    for (const { key } of doubles) this.report(this.violations.doubleCompletions, key);
    await this.checkCounters();
    let leftInQueues = 0;
    for (const slug of FLOW_SLUGS) {
      const [row] = await this.db.query<{ n: number }>(`select count(*)::int as n from pgmq.q_${slug}`);
      leftInQueues += row?.n ?? 0;
    }
    const [started] = await this.db.query<{ n: number }>(
      "select count(*)::int as n from pgflow.runs where status = 'started'",
    );
    return { leftInQueues, runsStillStarted: started?.n ?? 0 };
  }

  private async top(): Promise<number> {
    const [row] = await this.db.query<{ id: string | null }>(
      'select max(id) as id from public.reliability_completions',
    );
    return Number(row?.id ?? 0);
  }

  /** Runs whose completion row appeared since the last round (and the overlap) leave the pending set. */
  private async readRunEnds(): Promise<void> {
    const to = await this.top();
    const ends = await this.db.query<{ run_id: string }>(
      "select run_id from public.reliability_completions where id > $1 and id <= $2 and kind = 'run'",
      [this.from, to],
    );
    const ended = new Map<string, SoakRun>();
    for (const { run_id } of ends) {
      const run = this.load.ended(run_id);
      if (run) ended.set(run_id, run);
    }
    await this.verify(ended);
    this.from = Math.max(0, to - OVERLAP);
  }

  /** Completion rows since the last look (and the overlap) whose key has another row. */
  private async readDoubleCompletions(): Promise<void> {
    const to = await this.top();
    const doubles = await this.db.query<{ key: string }>(
      `select concat_ws('/', c.kind, c.run_id, c.step_slug, c.task_index) as key
         from public.reliability_completions c
        where c.id > $1 and c.id <= $2
          and exists (select 1 from public.reliability_completions o
                       where o.run_id = c.run_id and o.kind = c.kind
                         and o.step_slug is not distinct from c.step_slug
                         and o.task_index is not distinct from c.task_index and o.id <> c.id)`,
      [this.doublesFrom, to],
    );
    for (const { key } of doubles) this.report(this.violations.doubleCompletions, key);
    this.doublesFrom = Math.max(0, to - OVERLAP);
  }

  /** Compares the outputs of runs that ended with what their inputs imply. */
  private async verify(ended: Map<string, SoakRun>): Promise<void> {
    if (ended.size === 0) return;
    const rows = await this.db.query<{ run_id: string; status: string; output: unknown }>(
      'select run_id, status, output from pgflow.runs where run_id = any($1::uuid[])',
      [[...ended.keys()]],
    );
    for (const row of rows) {
      const run = ended.get(row.run_id) as SoakRun;
      if (JSON.stringify(row.output) !== JSON.stringify(run.expected.output)) {
        this.violations.wrongOutputs.push({
          runId: row.run_id,
          slug: run.slug,
          expected: run.expected.output,
          output: row.output,
        });
      } else {
        this.verifiedOutputs += 1;
      }
    }
    this.completedRuns += ended.size;
  }

  /** Pending runs not seen ending for a while: looked up by id (a completion row read before it committed). */
  private async lookUpStaleRuns(): Promise<void> {
    const stale = [...this.load.pending.entries()].filter(([, run]) => Date.now() - run.startedAt > STALE_MS);
    if (stale.length === 0) return;
    const ids = stale.map(([id]) => id);
    const rows = await this.db.query<{ run_id: string; status: string | null; completed: boolean }>(
      `select k.run_id, r.status,
              exists (select 1 from public.reliability_completions c where c.run_id = k.run_id and c.kind = 'run') as completed
         from unnest($1::uuid[]) as k(run_id) left join pgflow.runs r on r.run_id = k.run_id`,
      [ids],
    );
    const ended = new Map<string, SoakRun>();
    for (const row of rows) {
      if (row.completed) {
        const run = this.load.ended(row.run_id);
        if (run) ended.set(row.run_id, run);
      } else if (row.status !== 'started') {
        this.load.ended(row.run_id);
        this.violations.unfinishedRuns.push({ runId: row.run_id, status: row.status ?? 'missing' });
      }
    }
    await this.verify(ended);
  }

  private async checkCounters(): Promise<void> {
    const rows = await this.db.query<{ what: string; n: number }>(
      `select 'runs.remaining_steps' as what, count(*)::int as n from pgflow.runs where remaining_steps < 0
       union all select 'step_states.remaining_tasks', count(*)::int from pgflow.step_states where remaining_tasks < 0
       union all select 'step_states.remaining_deps', count(*)::int from pgflow.step_states where remaining_deps < 0
       union all select 'step_tasks.attempts_count', count(*)::int from pgflow.step_tasks where attempts_count < 0`,
    );
    for (const row of rows) if (row.n > 0) this.report(this.violations.negativeCounters, `${row.what}: ${row.n}`);
  }

  private async checkMessages(): Promise<void> {
    const seen = new Set<string>();
    for (const slug of FLOW_SLUGS) {
      const rows = await this.db.query<{ msg_id: string }>(
        `select q.msg_id from pgmq.q_${slug} q
           left join pgflow.runs r on r.run_id = (q.message ->> 'run_id')::uuid
          where r.status is distinct from 'started'`,
      );
      for (const { msg_id } of rows) {
        const key = `${slug}#${msg_id}`;
        seen.add(key);
        if (this.suspectMessages.has(key)) this.report(this.violations.leftoverMessages, key);
      }
    }
    this.suspectMessages = seen;
  }

  private report(list: string[], key: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    list.push(key);
  }
}
