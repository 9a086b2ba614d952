/**
 * For the claimed start's tests (pgflow._start_claimed_run): two runs of one flow started in one
 * transaction, one by the general path (pgflow.claimed_start 'off') and one by the claimed start, then
 * driven to their end together, each step's tasks reported in one transaction, so that their rows
 * have the same timestamps and can be compared whole once their ids are taken out.
 */
import type pg from 'pg';
import { json, onClient, type Sql } from './engine-driver.ts';

export interface ClaimedRow {
  kind: string;
  run_id: string;
  step_slug: string | null;
  task_index: number | null;
  msg_id: string | null;
  input: unknown;
  flow_input: unknown;
  attempt: number | null;
  timeout_seconds: number | null;
}

export interface StartedPair {
  /** Started through start_flows and _claim_tasks. */
  readonly general: ClaimedRow[];
  /** Started through _start_claimed_run. */
  readonly claimed: ClaimedRow[];
  /** Calls of pgflow.start_flows in the transaction (1: only the general run went through it). */
  readonly startFlowsCalls: number;
}

const START_AND_CLAIM = `select kind, run_id, step_slug, task_index, msg_id::text, input, flow_input, attempt, timeout_seconds
  from pgflow._start_and_claim($1, $2::jsonb, $5::uuid, null, null, null, null, null, $3, 30, $4::uuid)`;

/**
 * Starts a run of `flowSlug` both ways, in one transaction, with the ids `runIds` (general, claimed),
 * counting the calls of start_flows.
 */
export async function startBothWays(
  client: pg.Client,
  flowSlug: string,
  input: unknown,
  worker: string,
  runIds: readonly [string, string],
  qty = 10,
): Promise<StartedPair> {
  const sql = onClient(client);
  await sql.query('begin');
  try {
    await sql.query(`set local track_functions = 'all'`);
    await sql.query(`set local pgflow.claimed_start = 'off'`);
    const general = await sql.query<ClaimedRow>(START_AND_CLAIM, [flowSlug, json(input), qty, worker, runIds[0]]);
    await sql.query(`set local pgflow.claimed_start = 'on'`);
    const claimed = await sql.query<ClaimedRow>(START_AND_CLAIM, [flowSlug, json(input), qty, worker, runIds[1]]);
    const [calls] = await sql.query<{ calls: string | null }>(
      `select sum(calls) as calls from pg_stat_xact_user_functions
        where schemaname = 'pgflow' and funcname = 'start_flows'`,
    );
    await sql.query('commit');
    return { general, claimed, startFlowsCalls: Number(calls?.calls ?? 0) };
  } catch (error) {
    await sql.query('rollback');
    throw error;
  }
}

/** What a task outputs: the list a map step maps over, or a value naming the task. */
type OutputOf = (task: ClaimedRow) => unknown;

/**
 * Reports the tasks in hand (both runs' at once, in one transaction), claims what that made ready, and
 * so on until no task is left.
 */
export async function driveToEnd(
  client: pg.Client,
  flowSlug: string,
  worker: string,
  inHand: ClaimedRow[],
  outputOf: OutputOf,
): Promise<void> {
  const sql = onClient(client);
  let tasks = inHand.filter((row) => row.kind === 'task');
  for (let round = 0; tasks.length > 0; round++) {
    if (round > 20) throw new Error(`the runs of ${flowSlug} did not end in 20 rounds`);
    const completions = tasks.map((task) => ({
      run_id: task.run_id,
      step_slug: task.step_slug,
      task_index: task.task_index,
      output: outputOf(task),
    }));
    const rows = await sql.query<ClaimedRow & { run_outcome: unknown }>(
      `select run_id, step_slug, task_index, msg_id::text, input, flow_input, attempt, timeout_seconds
         from pgflow._report_and_claim($1::jsonb, '[]', $2, 100, 30, $3::uuid, '{}', true)
        where step_slug is not null`,
      [json(completions), flowSlug, worker],
    );
    tasks = rows.map((row) => ({ ...row, kind: 'task' }));
  }
}

/**
 * A run's rows without what differs between two runs by construction (ids, and the visibility
 * timestamp, which follows the clock) and the messages' read counts (`readCounts`): the run, its step
 * states, its tasks, each with its message (in the queue or in its archive).
 */
export async function runPicture(db: Sql, flowSlug: string, runId: string): Promise<unknown> {
  const queue = `pgmq.${JSON.stringify(`q_${flowSlug}`)}`;
  const archive = `pgmq.${JSON.stringify(`a_${flowSlug}`)}`;
  const [row] = await db.query<{ picture: unknown }>(
    `select jsonb_build_object(
       'run', (select to_jsonb(r) - 'run_id' from pgflow.runs r where r.run_id = $1),
       'states', (select jsonb_agg(to_jsonb(s) - 'run_id' order by s.step_slug)
                    from pgflow.step_states s where s.run_id = $1),
       'tasks', (select jsonb_agg((to_jsonb(t) - 'run_id' - 'message_id')
                                  || jsonb_build_object('message', m.message - 'run_id', 'enqueued_at', m.enqueued_at,
                                                        'archived', m.archived)
                                  order by t.step_slug, t.task_index)
                   from pgflow.step_tasks t
                   left join lateral (
                     select q.message, q.read_ct, q.enqueued_at, false as archived from ${queue} q
                      where q.msg_id = t.message_id
                     union all
                     select a.message, a.read_ct, a.enqueued_at, true from ${archive} a where a.msg_id = t.message_id
                   ) m on true
                  where t.run_id = $1)) as picture`,
    [runId],
  );
  return row?.picture;
}

/** The rows _start_and_claim returned, without the ids that differ between two runs. */
export function withoutIds(rows: readonly ClaimedRow[]): unknown[] {
  return rows.map(({ run_id: _run, msg_id: _msg, ...rest }) => rest);
}

/** The engine's events on a run's channel and its flow's, without their time and run id. */
export function eventsOf(notifications: readonly { channel: string; payload: string }[], runId: string): unknown[] {
  return notifications
    .filter((n) => n.channel === `pgflow:run:${runId}` || n.channel.startsWith('pgflow:flow:'))
    .map((n) => ({ channel: n.channel.startsWith('pgflow:run:') ? 'run' : n.channel, ...JSON.parse(n.payload) }))
    .filter((event) => event.run_id === runId)
    .map(({ at: _at, run_id: _run, ...rest }) => rest);
}

/** The read count of each task's message (in the queue or its archive), by step and task index. */
export async function readCounts(db: Sql, flowSlug: string, runId: string): Promise<Record<string, number>> {
  const rows = await db.query<{ task: string; read_ct: number }>(
    `select t.step_slug || '/' || t.task_index as task, m.read_ct
       from pgflow.step_tasks t
       join (select q.msg_id, q.read_ct from pgmq.${JSON.stringify(`q_${flowSlug}`)} q
             union all
             select a.msg_id, a.read_ct from pgmq.${JSON.stringify(`a_${flowSlug}`)} a) m on m.msg_id = t.message_id
      where t.run_id = $1`,
    [runId],
  );
  return Object.fromEntries(rows.map((row) => [row.task, row.read_ct]));
}

/** A row of _report_and_claim without the ids that differ between two runs. */
function reportRowWithoutIds(row: Record<string, unknown>): unknown {
  const { run_id: _run, msg_id: _msg, run_outcome: outcome, ...rest } = row;
  if (outcome === null || typeof outcome !== 'object') return { ...rest, run_outcome: outcome };
  const { run_id: _outcomeRun, ...kept } = outcome as Record<string, unknown>;
  return { ...rest, run_outcome: kept };
}

const REPORT_ALONE = `select run_id, step_slug, task_index, msg_id::text, input, flow_input, attempt, timeout_seconds,
       next_visible_at, run_outcome
  from pgflow._report_and_claim($1::jsonb, '[]', $2, $3, 30, $4::uuid, '{}', false, $5::uuid[])`;

/**
 * Drives the two runs of `startBothWays` to their end, each result reported alone (as an idle worker
 * reports it, awaiting its run), the general run's with pgflow.claimed_start 'off' and the claimed
 * run's with it on, round after round, all in one transaction (on a new connection, so that the
 * transaction's function counts are its own). Returns what the reports returned, without ids, for each
 * run, and the calls of pgflow.complete_tasks (the general path's) in the transaction.
 */
export async function reportBothWays(
  client: pg.Client,
  flowSlug: string,
  worker: string,
  started: StartedPair,
  outputOf: OutputOf,
  qty = 10,
): Promise<{ general: unknown[]; claimed: unknown[]; completeTasksCalls: number }> {
  const sql = onClient(client);
  const returned = { general: [] as unknown[], claimed: [] as unknown[] };
  let inHand = { general: started.general, claimed: started.claimed };
  await sql.query('begin');
  await sql.query(`set local track_functions = 'all'`);
  for (let round = 0; inHand.general.some((row) => row.kind === 'task'); round++) {
    if (round > 20) throw new Error(`the runs of ${flowSlug} did not end in 20 rounds`);
    const next = { general: [] as ClaimedRow[], claimed: [] as ClaimedRow[] };
    for (const way of ['general', 'claimed'] as const) {
      await sql.query(`set local pgflow.claimed_start = '${way === 'general' ? 'off' : 'on'}'`);
      for (const task of inHand[way].filter((row) => row.kind === 'task')) {
        const completion = { run_id: task.run_id, step_slug: task.step_slug, task_index: task.task_index };
        const rows = await sql.query<ClaimedRow & Record<string, unknown>>(REPORT_ALONE, [
          json([{ ...completion, output: outputOf(task) }]),
          flowSlug,
          qty,
          worker,
          [task.run_id],
        ]);
        returned[way].push(rows.map(reportRowWithoutIds));
        next[way].push(...rows.filter((row) => row.step_slug !== null).map((row) => ({ ...row, kind: 'task' })));
      }
    }
    inHand = next;
  }
  const [calls] = await sql.query<{ calls: string | null }>(
    `select sum(calls) as calls from pg_stat_xact_user_functions
      where schemaname = 'pgflow' and funcname = 'complete_tasks'`,
  );
  await sql.query('commit');
  return { ...returned, completeTasksCalls: Number(calls?.calls ?? 0) };
}
