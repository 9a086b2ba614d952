/**
 * The drain of one-step runs without the library, for the peers suite (issue 17): what the engine
 * alone allows on this server, and what the rows it keeps allow, next to the library and pg-boss in
 * the same rounds. Each runs in a process of its own on a clone of the started runs' database (as
 * drainStartedRuns), from `connections` connections in batches of `batch`, the clock from the first
 * statement until every run is complete:
 * - engineSqlDrain: pgflow._report_and_claim as the worker sends it (the previous batch's results
 *   reported, the next batch claimed, one statement), with no handler (EngineDriver);
 * - rowsByHandDrain: the same rows changed by two hand-written statements per batch on the same
 *   tables, with their indexes, rules and foreign keys, and nothing else (no engine function, no
 *   event, no check of the run's state): the messages read and their tasks started; then the tasks,
 *   their step states and their runs completed, the messages moved to the archive. What any engine
 *   keeping pgflow's tables must write per one-step run.
 */
import type pg from 'pg';
import { EngineDriver, WORKER_ID } from '../engine/engine.driver.ts';
import type { ChildControl } from '../support/child.ts';
import { untilRunsCompleted } from '../support/figures.ts';
import { BenchDatabase } from '../support/server.ts';

export interface SqlDrainInput {
  readonly database: { readonly name: string; readonly url: string };
  /** The started one-step runs' flow (startRunsInBatch's) and its step. */
  readonly flowSlug: string;
  readonly stepSlug: string;
  readonly runs: number;
  readonly batch: number;
  readonly connections: number;
}

export interface SqlDrainResult {
  readonly tasks: number;
  readonly runs: number;
  readonly seconds: number;
}

interface ClaimedRow {
  readonly run_id: string;
  readonly msg_id: string;
  readonly input: unknown;
}

/** The two statements of rowsByHandDrain for a flow's queue (its name is a checked identifier). */
function handWrittenSql(flowSlug: string, stepSlug: string) {
  if (!/^[a-z_][a-z0-9_]*$/.test(flowSlug)) throw new Error(`Not a queue name: '${flowSlug}'.`);
  const queue = `pgmq.q_${flowSlug}`;
  return {
    claim: `with read as (
              update ${queue} q set vt = clock_timestamp() + make_interval(secs => 30), read_ct = q.read_ct + 1
               where q.msg_id = any(array(select m.msg_id from ${queue} m where m.vt <= clock_timestamp()
                                           order by m.msg_id limit $1 for update skip locked))
              returning q.msg_id)
            update pgflow.step_tasks t
               set status = 'started', started_at = now(), attempts_count = t.attempts_count + 1, last_worker_id = $2
              from read
             where t.message_id = read.msg_id and t.flow_slug = '${flowSlug}' and t.status = 'queued'
            returning t.run_id, t.message_id as msg_id,
                      (select r.input from pgflow.runs r where r.run_id = t.run_id) as input`,
    complete: `with done as (select * from unnest($1::uuid[], $2::bigint[], $3::jsonb[]) as d(run_id, msg_id, output)),
               tasks as (
                 update pgflow.step_tasks t set status = 'completed', completed_at = now(), output = d.output
                   from done d
                  where t.run_id = d.run_id and t.step_slug = '${stepSlug}' and t.task_index = 0 and t.status = 'started'
                 returning 1),
               steps as (
                 update pgflow.step_states s
                    set status = 'completed', remaining_tasks = 0, completed_at = now(), output = d.output
                   from done d where s.run_id = d.run_id and s.step_slug = '${stepSlug}'
                 returning 1),
               runs as (
                 update pgflow.runs r
                    set status = 'completed', remaining_steps = 0, completed_at = now(),
                        output = jsonb_build_object('${stepSlug}', d.output)
                   from done d where r.run_id = d.run_id
                 returning 1),
               archived as (
                 delete from ${queue} q using done d where q.msg_id = d.msg_id
                 returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers),
               moved as (
                 insert into pgmq.a_${flowSlug} (msg_id, read_ct, enqueued_at, vt, message, headers)
                 select * from archived returning 1)
               select (select count(*) from tasks) + (select count(*) from steps) + (select count(*) from runs)
                      + (select count(*) from moved) as changed`,
  };
}

/** Connects `input.connections` clients and a probe, registers the worker, runs `drain` on each client, times it. */
async function timedDrain(
  input: SqlDrainInput,
  control: ChildControl,
  drain: (client: pg.Client) => Promise<void>,
): Promise<SqlDrainResult> {
  const database = new BenchDatabase(input.database.name, input.database.url);
  const connect = () => database.connect('pgflow bench sql drain');
  const probe = await connect();
  const clients = await Promise.all(Array.from({ length: input.connections }, connect));
  try {
    await probe.query(
      `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'bench sql drain')`,
      [WORKER_ID, input.flowSlug],
    );
    await control.ready();
    const started = performance.now();
    await Promise.all(clients.map(drain));
    await untilRunsCompleted(probe, input.flowSlug);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.runs, runs: input.runs, seconds };
  } finally {
    await Promise.all([probe, ...clients].map((client) => client.end()));
  }
}

/** The engine alone: pgflow._report_and_claim from each connection until the queue is empty. */
export async function engineSqlDrain(input: SqlDrainInput, control: ChildControl): Promise<SqlDrainResult> {
  return timedDrain(input, control, async (client) => {
    const driver = new EngineDriver(client, input.flowSlug, 'report_and_claim', input.batch);
    while ((await driver.work(input.runs)) > 0);
  });
}

/** pgflow's rows alone: two hand-written statements per batch until the queue is empty. */
export async function rowsByHandDrain(input: SqlDrainInput, control: ChildControl): Promise<SqlDrainResult> {
  const sql = handWrittenSql(input.flowSlug, input.stepSlug);
  return timedDrain(input, control, async (client) => {
    for (;;) {
      const { rows } = await client.query<ClaimedRow>(sql.claim, [input.batch, WORKER_ID]);
      if (rows.length === 0) return;
      // A no-op handler: its output is its input.
      await client.query(sql.complete, [
        rows.map((row) => row.run_id),
        rows.map((row) => row.msg_id),
        rows.map((row) => JSON.stringify(row.input)),
      ]);
    }
  });
}
