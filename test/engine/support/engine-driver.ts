/**
 * A small SQL-only driver for the engine tests: it plays the part of the library's worker and
 * client (define a flow, start a run, poll, complete, fail) with plain calls to the pgflow and pgmq
 * functions, so that each test reads like the behaviour it checks. Values always travel as bind
 * parameters; JSON values are sent as text and cast, so that falsy JSON (0, false, "", null) and
 * arrays keep their JSON meaning.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { FlowRow, RunRow, StepRow, TaskRow } from './engine-state.ts';

/** Anything that runs a query and returns its rows: the test database, or a client wrapped by `onClient`. */
export interface Sql {
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** Runs the driver's queries on one dedicated connection (for transactions and concurrency tests). */
export function onClient(client: pg.Client): Sql {
  return {
    query: async <Row extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
      (await client.query<Row>(sql, params)).rows,
  };
}

/** JSON for a `$n::jsonb` parameter (undefined becomes SQL NULL). */
export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export type Policy = 'fail' | 'skip' | 'skip-cascade';

export interface StepSpec {
  readonly slug: string;
  readonly deps?: readonly string[];
  readonly type?: 'single' | 'map';
  readonly maxAttempts?: number;
  readonly baseDelay?: number;
  readonly timeout?: number;
  readonly startDelay?: number;
  /** required_input_pattern */
  readonly if?: unknown;
  /** forbidden_input_pattern */
  readonly ifNot?: unknown;
  readonly whenUnmet?: Policy;
  readonly whenExhausted?: Policy;
}

export interface FlowOptions {
  readonly maxAttempts?: number;
  readonly baseDelay?: number;
  readonly timeout?: number;
}

export async function createFlow(db: Sql, flowSlug: string, options: FlowOptions = {}): Promise<FlowRow> {
  const [row] = await db.query<FlowRow>(
    `select * from pgflow.create_flow(flow_slug => $1, max_attempts => $2, base_delay => $3, timeout => $4)`,
    [flowSlug, options.maxAttempts ?? null, options.baseDelay ?? null, options.timeout ?? null],
  );
  return row as FlowRow;
}

export async function addStep(db: Sql, flowSlug: string, step: StepSpec): Promise<StepRow> {
  const [row] = await db.query<StepRow>(
    `select * from pgflow.add_step(
       flow_slug => $1, step_slug => $2, deps_slugs => $3::text[],
       max_attempts => $4, base_delay => $5, timeout => $6, start_delay => $7,
       step_type => $8, required_input_pattern => $9::jsonb, forbidden_input_pattern => $10::jsonb,
       when_unmet => $11, when_exhausted => $12)`,
    [
      flowSlug,
      step.slug,
      step.deps ?? [],
      step.maxAttempts ?? null,
      step.baseDelay ?? null,
      step.timeout ?? null,
      step.startDelay ?? null,
      step.type ?? 'single',
      json(step.if),
      json(step.ifNot),
      step.whenUnmet ?? 'skip',
      step.whenExhausted ?? 'fail',
    ],
  );
  return row as StepRow;
}

/** create_flow, then add_step for each step in order. */
export async function defineFlow(
  db: Sql,
  flowSlug: string,
  steps: readonly StepSpec[],
  options: FlowOptions = {},
): Promise<void> {
  await createFlow(db, flowSlug, options);
  for (const step of steps) await addStep(db, flowSlug, step);
}

export async function startRun(db: Sql, flowSlug: string, input: unknown, runId?: string): Promise<RunRow> {
  const [row] = await db.query<RunRow>(
    `select * from pgflow.start_flow(flow_slug => $1, input => $2::jsonb, run_id => $3::uuid)`,
    [flowSlug, json(input), runId ?? null],
  );
  if (!row) throw new Error(`start_flow(${flowSlug}) returned no run`);
  return row;
}

const DEFAULT_WORKER = '00000000-0000-4000-8000-00000000f00d';

/** Registers a worker row (start_tasks records it on the tasks it starts). */
export async function registerWorker(db: Sql, queueName: string, workerId: string = randomUUID()): Promise<string> {
  await db.query(
    `insert into pgflow.workers (worker_id, queue_name, function_name, started_at, last_heartbeat_at)
     values ($1, $2, 'engine-test', now(), now())
     on conflict (worker_id) do nothing`,
    [workerId, queueName],
  );
  return workerId;
}

export interface MessageRecord {
  msg_id: string;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  message: { flow_slug: string; run_id: string; step_slug: string; task_index: number };
}

export interface PollOptions {
  /** How many messages to read at most (default 100). */
  readonly qty?: number;
  /** Visibility timeout of the read, in seconds (default 30). */
  readonly vt?: number;
  /** Read only the messages of this run (pgmq's `conditional`), for flows shared between tests. */
  readonly runId?: string;
  /** Read only the messages of this step (with `runId`, or alone). */
  readonly stepSlug?: string;
  /** The worker to record on started tasks (default: one registered driver worker). */
  readonly workerId?: string;
}

function conditional(options: PollOptions): Record<string, string> {
  const filter: Record<string, string> = {};
  if (options.runId) filter.run_id = options.runId;
  if (options.stepSlug) filter.step_slug = options.stepSlug;
  return filter;
}

/** The first phase of polling: pgmq.read on the flow's queue. */
export async function readMessages(db: Sql, flowSlug: string, options: PollOptions = {}): Promise<MessageRecord[]> {
  return db.query<MessageRecord>(
    `select * from pgmq.read(queue_name => $1, vt => $2, qty => $3, conditional => $4::jsonb)`,
    [flowSlug, options.vt ?? 30, options.qty ?? 100, json(conditional(options))],
  );
}

export interface TaskRecord {
  flow_slug: string;
  run_id: string;
  step_slug: string;
  input: unknown;
  msg_id: string;
  task_index: number;
  flow_input: unknown;
}

/** The second phase of polling: start_tasks for the given message ids. */
export async function startTasks(
  db: Sql,
  flowSlug: string,
  msgIds: readonly (string | number)[],
  workerId?: string,
): Promise<TaskRecord[]> {
  const worker = workerId ?? (await registerWorker(db, flowSlug, DEFAULT_WORKER));
  return db.query<TaskRecord>(
    `select * from pgflow.start_tasks(flow_slug => $1, msg_ids => $2::bigint[], worker_id => $3::uuid)`,
    [flowSlug, msgIds.map(String), worker],
  );
}

/** Both phases: read messages, then start their tasks; returned in (step slug, task index) order. */
export async function pollTasks(db: Sql, flowSlug: string, options: PollOptions = {}): Promise<TaskRecord[]> {
  const messages = await readMessages(db, flowSlug, options);
  if (messages.length === 0) return [];
  const tasks = await startTasks(
    db,
    flowSlug,
    messages.map((m) => m.msg_id),
    options.workerId,
  );
  return tasks.sort((a, b) => a.step_slug.localeCompare(b.step_slug) || a.task_index - b.task_index);
}

/** Polls and expects exactly one started task, of the given step when one is named. */
export async function pollOne(
  db: Sql,
  flowSlug: string,
  stepSlug?: string,
  options: PollOptions = {},
): Promise<TaskRecord> {
  const tasks = await pollTasks(db, flowSlug, options);
  const slugs = tasks.map((t) => `${t.step_slug}[${t.task_index}]`);
  if (tasks.length !== 1 || (stepSlug !== undefined && tasks[0]?.step_slug !== stepSlug)) {
    throw new Error(`expected one task${stepSlug ? ` of ${stepSlug}` : ''}, polled: [${slugs.join(', ')}]`);
  }
  return tasks[0] as TaskRecord;
}

export async function completeTask(
  db: Sql,
  runId: string,
  stepSlug: string,
  taskIndex: number,
  output: unknown,
): Promise<TaskRow[]> {
  return db.query<TaskRow>(
    `select * from pgflow.complete_task(run_id => $1::uuid, step_slug => $2, task_index => $3, output => $4::jsonb)`,
    [runId, stepSlug, taskIndex, json(output)],
  );
}

export async function failTask(
  db: Sql,
  runId: string,
  stepSlug: string,
  taskIndex: number,
  errorMessage: string,
): Promise<TaskRow[]> {
  return db.query<TaskRow>(
    `select * from pgflow.fail_task(run_id => $1::uuid, step_slug => $2, task_index => $3, error_message => $4)`,
    [runId, stepSlug, taskIndex, errorMessage],
  );
}

export interface Completion {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly output: unknown;
  /** The attempt the result is for; omitted, the result counts for whichever attempt is running. */
  readonly attempt?: number;
}

export interface Failure {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly error_message: string;
  readonly attempt?: number;
}

export async function completeTasks(db: Sql, completions: readonly Completion[]): Promise<number> {
  const [row] = await db.query<{ count: number }>(`select pgflow.complete_tasks(completions => $1::jsonb) as count`, [
    json(completions),
  ]);
  return row?.count as number;
}

export async function failTasks(db: Sql, failures: readonly Failure[]): Promise<number> {
  const [row] = await db.query<{ count: number }>(`select pgflow.fail_tasks(failures => $1::jsonb) as count`, [
    json(failures),
  ]);
  return row?.count as number;
}

/**
 * Runs a flow's queue until it is empty: polls, and completes each started task with
 * `handler(task)`. Returns the tasks it handled, in order.
 */
export async function drain(
  db: Sql,
  flowSlug: string,
  handler: (task: TaskRecord) => unknown,
  options: PollOptions = {},
  maxRounds = 1000,
): Promise<TaskRecord[]> {
  const handled: TaskRecord[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const tasks = await pollTasks(db, flowSlug, options);
    if (tasks.length === 0) return handled;
    for (const task of tasks) {
      await completeTask(db, task.run_id, task.step_slug, task.task_index, handler(task));
      handled.push(task);
    }
  }
  throw new Error(`drain(${flowSlug}) did not empty the queue in ${maxRounds} rounds`);
}

export * from './engine-state.ts';
