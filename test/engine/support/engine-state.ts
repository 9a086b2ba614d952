/**
 * Reading the engine's state for assertions: rows of runs, step states and tasks, the flow's queue
 * and archive, and whole-table snapshots (equal snapshots mean nothing changed).
 */
import pg from 'pg';
import type { MessageRecord, Sql } from './engine-driver.ts';

export interface FlowRow {
  flow_slug: string;
  opt_max_attempts: number;
  opt_base_delay: number;
  opt_timeout: number;
  created_at: Date;
}

export interface StepRow {
  flow_slug: string;
  step_slug: string;
  step_type: string;
  step_index: number;
  deps_count: number;
  opt_max_attempts: number | null;
  opt_base_delay: number | null;
  opt_timeout: number | null;
  opt_start_delay: number | null;
  required_input_pattern: unknown;
  forbidden_input_pattern: unknown;
  when_unmet: string;
  when_exhausted: string;
}

export interface RunRow {
  run_id: string;
  flow_slug: string;
  status: string;
  input: unknown;
  output: unknown;
  remaining_steps: number;
  started_at: Date;
  completed_at: Date | null;
  failed_at: Date | null;
  cancelled_at?: Date | null;
  cancel_reason?: string | null;
  idempotency_key?: string | null;
}

export interface StepStateRow {
  run_id: string;
  step_slug: string;
  flow_slug: string;
  status: string;
  remaining_tasks: number | null;
  initial_tasks: number | null;
  remaining_deps: number;
  output: unknown;
  /** output::text, to tell JSON null from SQL NULL */
  output_text: string | null;
  error_message: string | null;
  skip_reason: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  skipped_at: Date | null;
}

export interface TaskRow {
  run_id: string;
  step_slug: string;
  flow_slug: string;
  task_index: number;
  message_id: string | null;
  status: string;
  attempts_count: number;
  error_message: string | null;
  output: unknown;
  queued_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  last_worker_id: string | null;
  requeued_count: number;
  last_requeued_at: Date | null;
  permanently_stalled_at: Date | null;
}

export async function runRow(db: Sql, runId: string): Promise<RunRow> {
  const [row] = await db.query<RunRow>('select * from pgflow.runs where run_id = $1', [runId]);
  if (!row) throw new Error(`no run ${runId}`);
  return row;
}

/** The run's output as JSON text (tells `{"a": null}` from `{}` and JSON null from SQL NULL). */
export async function runOutputText(db: Sql, runId: string): Promise<string | null> {
  const [row] = await db.query<{ output: string | null }>(
    'select output::text as output from pgflow.runs where run_id = $1',
    [runId],
  );
  return row?.output ?? null;
}

/** The run's step states keyed by step slug. */
export async function stepStates(db: Sql, runId: string): Promise<Record<string, StepStateRow>> {
  const rows = await db.query<StepStateRow>(
    'select *, output::text as output_text from pgflow.step_states where run_id = $1 order by step_slug',
    [runId],
  );
  return Object.fromEntries(rows.map((row) => [row.step_slug, row]));
}

export async function stepState(db: Sql, runId: string, stepSlug: string): Promise<StepStateRow> {
  const state = (await stepStates(db, runId))[stepSlug];
  if (!state) throw new Error(`no step state ${stepSlug} in run ${runId}`);
  return state;
}

/** Status of every step of the run, keyed by slug: a compact picture for assertions. */
export async function statuses(db: Sql, runId: string): Promise<Record<string, string>> {
  const states = await stepStates(db, runId);
  return Object.fromEntries(Object.entries(states).map(([slug, s]) => [slug, s.status]));
}

export async function stepTasks(db: Sql, runId: string, stepSlug?: string): Promise<TaskRow[]> {
  return db.query<TaskRow>(
    `select * from pgflow.step_tasks where run_id = $1 and ($2::text is null or step_slug = $2)
      order by step_slug, task_index`,
    [runId, stepSlug ?? null],
  );
}

export async function stepTask(db: Sql, runId: string, stepSlug: string, taskIndex = 0): Promise<TaskRow> {
  const [row] = await db.query<TaskRow>(
    'select * from pgflow.step_tasks where run_id = $1 and step_slug = $2 and task_index = $3',
    [runId, stepSlug, taskIndex],
  );
  if (!row) throw new Error(`no task ${stepSlug}[${taskIndex}] in run ${runId}`);
  return row;
}

export interface QueueMessage extends MessageRecord {
  /** Seconds from now (the database's clock) until the message becomes visible; negative = visible. */
  visible_in: number;
}

function queueTable(prefix: 'q' | 'a', queueName: string): string {
  return `pgmq.${pg.escapeIdentifier(`${prefix}_${queueName.toLowerCase()}`)}`;
}

/** Messages still in the flow's queue (not archived), optionally only those of one run. */
export async function queueMessages(db: Sql, flowSlug: string, runId?: string): Promise<QueueMessage[]> {
  return db.query<QueueMessage>(
    `select *, extract(epoch from vt - clock_timestamp())::float8 as visible_in
       from ${queueTable('q', flowSlug)}
      where $1::text is null or message->>'run_id' = $1
      order by msg_id`,
    [runId ?? null],
  );
}

/** The queue message of one task (undefined once archived). */
export async function taskMessage(
  db: Sql,
  flowSlug: string,
  runId: string,
  stepSlug: string,
  taskIndex = 0,
): Promise<QueueMessage | undefined> {
  const task = await stepTask(db, runId, stepSlug, taskIndex);
  const [message] = await db.query<QueueMessage>(
    `select *, extract(epoch from vt - clock_timestamp())::float8 as visible_in
       from ${queueTable('q', flowSlug)} where msg_id = $1`,
    [task.message_id],
  );
  return message;
}

/** Archived messages of the flow's queue, optionally only those of one run. */
export async function archivedMessages(db: Sql, flowSlug: string, runId?: string): Promise<MessageRecord[]> {
  return db.query<MessageRecord>(
    `select * from ${queueTable('a', flowSlug)} where $1::text is null or message->>'run_id' = $1 order by msg_id`,
    [runId ?? null],
  );
}

/** Makes a message visible now, standing in for the passing of its delay. */
export async function makeVisible(db: Sql, flowSlug: string, msgId: string): Promise<void> {
  await db.query('select * from pgmq.set_vt(queue_name => $1, msg_id => $2::bigint, vt => 0)', [flowSlug, msgId]);
}

const SNAPSHOT_TABLES: ReadonlyArray<readonly [string, string]> = [
  ['flows', 'flow_slug'],
  ['steps', 'flow_slug, step_slug'],
  ['deps', 'flow_slug, dep_slug, step_slug'],
  ['runs', 'run_id'],
  ['step_states', 'run_id, step_slug'],
  ['step_tasks', 'run_id, step_slug, task_index'],
  ['workers', 'worker_id'],
];

/** Every row of every pgflow table, as JSON text: equal snapshots mean nothing changed. */
export async function snapshotTables(db: Sql): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const [table, order] of SNAPSHOT_TABLES) {
    const [row] = await db.query<{ rows: string }>(
      `select coalesce(jsonb_agg(to_jsonb(t) order by ${order}), '[]')::text as rows from pgflow.${table} t`,
    );
    snapshot[table] = row?.rows ?? '[]';
  }
  return snapshot;
}

/** Row counts of the pgflow tables for one flow (definitions and runtime). */
export async function flowRowCounts(db: Sql, flowSlug: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [table] of SNAPSHOT_TABLES) {
    if (table === 'workers') continue;
    const [row] = await db.query<{ n: number }>(`select count(*)::int as n from pgflow.${table} where flow_slug = $1`, [
      flowSlug,
    ]);
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** Seconds between a timestamp and the database's current clock (positive = in the future). */
export async function secondsFromNow(db: Sql, at: Date): Promise<number> {
  const [row] = await db.query<{ s: number }>(
    'select extract(epoch from $1::timestamptz - clock_timestamp())::float8 as s',
    [at],
  );
  return row?.s as number;
}

/** The engine's functions that hold each flow's static queue statements (pgflow._write_queue_statements). */
const QUEUE_STATEMENT_FUNCTIONS = ['_queue_read', '_queue_archive', '_queue_send', '_queue_has_visible'];

/** Whether each of QUEUE_STATEMENT_FUNCTIONS (in that order) holds the static statements of the flow's queue. */
export async function queueStatementsOf(db: Sql, flowSlug: string): Promise<boolean[]> {
  const rows = await db.query<{ proname: string; prosrc: string }>(
    `select proname, prosrc from pg_proc where pronamespace = 'pgflow'::regnamespace and proname = any($1::name[])`,
    [QUEUE_STATEMENT_FUNCTIONS],
  );
  const text = new Map(rows.map((row) => [row.proname, row.prosrc]));
  return QUEUE_STATEMENT_FUNCTIONS.map((name) => text.get(name)?.includes(`pgmq.q_${flowSlug}`) === true);
}
