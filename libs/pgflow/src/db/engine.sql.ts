/**
 * Every SQL statement the library sends, in one place (the engine's own SQL lives in the
 * migrations). Values always travel as bind parameters; the only identifiers are channel names and
 * queue tables (of validated flow slugs), quoted with quoteIdentifier().
 *
 * Every function, operator and type is named with its schema (pg_catalog.now(),
 * operator(pg_catalog.=), ::pg_catalog.jsonb), as inside the engine's functions: the statements run
 * on the application's connections, whose search_path may put a schema other roles can write to
 * before pg_catalog, and an object planted there with a built-in's name (a function, an operator,
 * or a domain whose CHECK calls one) must never run (docs/SECURITY.md).
 */

/** Channel the engine notifies when it sends work to a queue (payload: the queue name). */
export const WORK_CHANNEL = 'pgflow:work';

/**
 * Channel the engine notifies when a run is cancelled (payload: JSON with event_type, run_id,
 * flow_slug): workers abort the handlers of that run they are executing.
 */
export const CONTROL_CHANNEL = 'pgflow:control';

/**
 * Channel of the schedule events (created, updated, removed, paused, resumed, tick; payload: JSON
 * with event_type and schedule_name): schedulers read the schedules again when one comes.
 */
export const SCHEDULES_CHANNEL = 'pgflow:schedules';

/** Channel of the run events of every run of one flow (for @OnFlowEvent). */
export function flowChannel(flowSlug: string): string {
  return `pgflow:flow:${flowSlug}`;
}

/** Channel of one run's events. */
export function runChannel(runId: string): string {
  return `pgflow:run:${runId}`;
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

export const sql = {
  ensureFlowCompiled: 'select pgflow.ensure_flow_compiled($1, $2::pg_catalog.jsonb, $3) as result',

  /** Static statements for the flows' queues (see the SQL function); true when it rewrote some. */
  writeQueueStatements: 'select pgflow._write_queue_statements() as changed',

  /**
   * $4: the W3C traceparent to store on the run (tracing), or null; $5: the run's priority; $6: its
   * rate limit key, or null; $7: its concurrency key, or null.
   */
  startFlow: `select run_id, flow_slug, status, started_at
                from pgflow.start_flow($1, $2::pg_catalog.jsonb, $3::pg_catalog.uuid, trace_context => $4,
                                       priority => $5::pg_catalog.int4, rate_limit_key => $6,
                                       concurrency_key => $7)`,
  /**
   * $4: one W3C traceparent per input (tracing), or null; $5: the priority of every run; $6: one rate
   * limit key per input, or null; $7: one concurrency key per input, or null.
   */
  startFlows: `select run_id, flow_slug
                 from pgflow.start_flows($1, $2::pg_catalog.jsonb, $3::pg_catalog.uuid[],
                                         trace_contexts => $4::pg_catalog.text[], priority => $5::pg_catalog.int4,
                                         rate_limit_keys => $6::pg_catalog.text[],
                                         concurrency_keys => $7::pg_catalog.text[])`,

  /**
   * start_flow (with $4 the idempotency key or null, $5-$8 as startFlow's $4-$7) and a claim of up to $9
   * tasks of its flow for the worker $11 of this process (visibility timeout $10, runs it knows $12): the
   * run's row (kind 'run'), then the claimed tasks (kind 'task').
   */
  startAndClaim: `select kind, run_id, flow_slug, step_slug, task_index, msg_id, input, flow_input, attempt, timeout_seconds
                    from pgflow._start_and_claim($1, $2::pg_catalog.jsonb, $3::pg_catalog.uuid, $4, $5,
                                                 $6::pg_catalog.int4, $7, $8, $9::int, $10::int,
                                                 $11::pg_catalog.uuid, $12::pg_catalog.uuid[])`,
  /** start_flow with an idempotency key ($4): the run that has the key when one does; $5-$8 as startFlow's $4-$7. */
  startFlowWithKey: `select run_id, flow_slug
                       from pgflow.start_flow($1, $2::pg_catalog.jsonb, $3::pg_catalog.uuid, $4, $5, $6::pg_catalog.int4,
                                              $7, $8)`,

  cancelRun: 'select pgflow.cancel_run($1::pg_catalog.uuid, $2) as result',

  retryRun: 'select run_id, flow_slug from pgflow.retry_run($1::pg_catalog.uuid, $2)',
  /**
   * Subflows: starts the child run of flow $5 with input $6 (jsonb text) for attempt $4 of task
   * ($1, $2, $3), which then waits for it (pgflow._start_child_run).
   */
  startChildRun:
    'select pgflow._start_child_run($1::pg_catalog.uuid, $2, $3::pg_catalog.int4, $4::pg_catalog.int4, $5, $6::pg_catalog.jsonb) as result',
  /** Delivers signal $2 with payload $3 (jsonb text) to run $1 (pgflow.send_signal). */
  sendSignal: 'select pgflow.send_signal($1::pg_catalog.uuid, $2, $3::pg_catalog.jsonb) as result',

  pauseFlow: 'select pgflow.pause_flow($1) as result',

  resumeFlow: 'select pgflow.resume_flow($1) as result',

  /** Makes flow $1's schedules in the database those of $2 (pgflow.sync_schedules). */
  syncSchedules: 'select pgflow.sync_schedules($1, $2::pg_catalog.jsonb) as result',

  /**
   * The schedules a scheduler fires: those of flows $1 that are not paused, with next_tick_at to the
   * microsecond (the compare-and-set of fire_schedule compares it exactly) and the database's clock.
   */
  servedSchedules: `select schedule_name, cron, time_zone, catch_up, next_tick_at,
                           pg_catalog.to_char(pg_catalog.timezone('UTC', next_tick_at),
                                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as next_tick_exact,
                           pg_catalog.clock_timestamp() as db_now
                      from pgflow.schedules
                     where flow_slug operator(pg_catalog.=) any ($1::pg_catalog.text[]) and paused_at is null
                     order by schedule_name`,

  /** Fires schedule $1's due ticks $3 if its next tick still is $2, and sets it to $4 (pgflow.fire_schedule). */
  fireSchedule: `select pgflow.fire_schedule($1, $2::pg_catalog.timestamptz, $3::pg_catalog.jsonb,
                                             $4::pg_catalog.timestamptz) as result`,

  pauseSchedule: 'select pgflow.pause_schedule($1) as result',

  resumeSchedule: 'select pgflow.resume_schedule($1) as result',

  /** Every schedule (FlowClient.listSchedules), by name. */
  listSchedules: `select schedule_name, flow_slug, cron, time_zone, input, overlap, catch_up, paused_at, next_tick_at,
                         last_tick_at, last_run_id, created_at, updated_at
                    from pgflow.schedules order by schedule_name`,

  /**
   * A page of runs, newest first (pgflow.list_runs). started_at also as text to the microsecond in
   * UTC, for the cursor: a Date keeps only milliseconds, and runs started together share a time.
   */
  listRuns: `select r.run_id, r.flow_slug, r.status, r.input, r.output, r.started_at, r.completed_at, r.failed_at,
                    r.cancelled_at, r.cancel_reason, r.concurrency_key, r.concurrency_state,
                    pg_catalog.to_char(pg_catalog.timezone('UTC', r.started_at),
                                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact
               from pgflow.list_runs($1, $2, $3::pg_catalog.timestamptz, $4::pg_catalog.timestamptz, $5::int,
                                     $6::pg_catalog.timestamptz, $7::pg_catalog.uuid) r`,

  /** Every flow with its alias, whether it is paused, and its runs counted by status (the CLI's `flows`). */
  flowsOverview: `select f.flow_slug, f.alias, f.paused_at, c.started, c.completed, c.failed, c.cancelled
                    from pgflow.flows f
                    cross join lateral (
                      select pg_catalog.count(*) filter (where r.status operator(pg_catalog.=) 'started')::int as started,
                             pg_catalog.count(*) filter (where r.status operator(pg_catalog.=) 'completed')::int as completed,
                             pg_catalog.count(*) filter (where r.status operator(pg_catalog.=) 'failed')::int as failed,
                             pg_catalog.count(*) filter (where r.status operator(pg_catalog.=) 'cancelled')::int as cancelled
                        from pgflow.runs r where r.flow_slug operator(pg_catalog.=) f.flow_slug) c
                   order by f.flow_slug`,

  /** pgflow's maintenance function: deletes what ended more than $1 seconds ago (the CLI's `prune`). */
  pruneDataOlderThan: 'select pgflow.prune_data_older_than(pg_catalog.make_interval(secs => $1::pg_catalog.float8))',

  /** Which of the runs $1 are cancelled, with the reason (a worker checks its running tasks' runs). */
  cancelledRuns: `select run_id, cancel_reason from pgflow.runs
                   where run_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[])
                     and status operator(pg_catalog.=) 'cancelled'`,

  /** The worker's poll: read up to $2 messages of queue $1 and start their tasks. */

  /**
   * The worker's round trip: report results ($1 completions, $2 failures as JSON arrays), then
   * claim up to $4 tasks of flow $3 (see pgflow._report_and_claim).
   */
  reportAndClaim: `select run_id, step_slug, task_index, msg_id, input, flow_input, attempt, timeout_seconds,
                          next_visible_at, db_now, run_outcome
                     from pgflow._report_and_claim($1::pg_catalog.jsonb, $2::pg_catalog.jsonb, $3, $4::int, $5::int,
                                                   $6::pg_catalog.uuid, $7::pg_catalog.uuid[], $8::boolean,
                                                   $9::pg_catalog.uuid[])`,

  completeTasks: 'select pgflow.complete_tasks($1::pg_catalog.jsonb) as completed',

  failTasks: 'select pgflow.fail_tasks($1::pg_catalog.jsonb) as failed',

  releaseTasks: 'select pgflow._release_tasks($1, $2::bigint[], $3::pg_catalog.uuid) as released',

  /** Durable sleep: [{ msg_id, until }] → which tasks went to sleep (the others run now). */
  sleepTasks:
    'select msg_id::text, sleep_until, sleeping from pgflow._sleep_tasks($1, $2::pg_catalog.uuid, $3::pg_catalog.jsonb)',

  requeueStalledTasks: 'select pgflow.requeue_stalled_tasks() as requeued',

  /**
   * One batch of the retention policy (pgflow.apply_retention): $1 and $2 seconds to keep completed,
   * and failed or cancelled, runs (null: forever), $3 runs per batch. Returns { busy, runs, messages }.
   */
  applyRetention: `select pgflow.apply_retention(pg_catalog.make_interval(secs => $1::pg_catalog.float8),
                                                 pg_catalog.make_interval(secs => $2::pg_catalog.float8),
                                                 $3::int) as result`,

  /** $4: milliseconds of silence after which other workers declare these workers dead. */
  registerWorkers: `insert into pgflow.workers (worker_id, queue_name, function_name, dead_after)
                    select w.id, w.queue, w.name,
                           pg_catalog.make_interval(secs => $4::pg_catalog.float8 operator(pg_catalog./) 1000.0::pg_catalog.float8)
                      from rows from (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.text[]),
                                      pg_catalog.unnest($3::pg_catalog.text[])) as w(id, queue, name)`,

  heartbeat: 'select worker_id, was_declared_dead from pgflow._heartbeat($1::pg_catalog.uuid[])',

  markWorkersStopped: 'select pgflow.mark_worker_stopped(w) from pg_catalog.unnest($1::pg_catalog.uuid[]) w',

  /**
   * Whether a worker that is not stopped and beat within $2 seconds serves queue $1. The parentheses
   * matter: OPERATOR(...) has one precedence whatever the operator, so without them `a > b - c`
   * would read `(a > b) - c`.
   */
  liveWorkerServes: `select exists (select 1 from pgflow.workers
                                     where queue_name operator(pg_catalog.=) $1 and stopped_at is null
                                       and last_heartbeat_at operator(pg_catalog.>)
                                           (pg_catalog.now() operator(pg_catalog.-) pg_catalog.make_interval(secs => $2)))
                            as served`,

  /**
   * What the health check reads, in one statement: `heartbeat_age`, seconds since the oldest last
   * heartbeat of workers $1 (null: none of them); `stalled_tasks`, the started tasks of any flow that
   * pgflow.requeue_stalled_tasks would requeue for their time (started longer ago than their timeout
   * + 30 s); `queue_ages`, for each of `flowSlugs` in order, seconds since its queue's oldest visible
   * message was sent (null: none visible; messages in flight or delayed are not visible).
   */
  healthState: (flowSlugs: readonly string[]) => {
    const ages = flowSlugs.map(
      (slug) => `(select pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() operator(pg_catalog.-)
                                                     pg_catalog.min(m.enqueued_at))
                    from pgmq.${quoteIdentifier(`q_${slug}`)} m
                   where m.vt operator(pg_catalog.<=) pg_catalog.clock_timestamp())`,
    );
    return `select (select pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() operator(pg_catalog.-)
                                                          pg_catalog.min(w.last_heartbeat_at))
                      from pgflow.workers w
                     where w.worker_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[])) as heartbeat_age,
                   (select pg_catalog.count(*)::int
                      from pgflow.step_tasks t
                      join pgflow.steps s on s.flow_slug operator(pg_catalog.=) t.flow_slug
                                         and s.step_slug operator(pg_catalog.=) t.step_slug
                      join pgflow.flows f on f.flow_slug operator(pg_catalog.=) t.flow_slug
                     where t.status operator(pg_catalog.=) 'started'
                       and t.started_at operator(pg_catalog.<)
                           (pg_catalog.now() operator(pg_catalog.-) pg_catalog.make_interval(
                              secs => (coalesce(s.opt_timeout, f.opt_timeout) operator(pg_catalog.+) 30)))) as stalled_tasks,
                   array[${ages.join(', ')}]::pg_catalog.float8[] as queue_ages`;
  },

  /** The trace contexts (W3C traceparents) of runs $1 that have one. */
  runTraceContexts: `select run_id, trace_context from pgflow.runs
                      where run_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[]) and trace_context is not null`,

  /** Per flow of `flowSlugs`, in order: how many messages of its queue are visible now. */
  queueDepths: (flowSlugs: readonly string[]) =>
    `select array[${flowSlugs
      .map(
        (slug) => `(select pg_catalog.count(*) from pgmq.${quoteIdentifier(`q_${slug}`)} m
                     where m.vt operator(pg_catalog.<=) pg_catalog.clock_timestamp())`,
      )
      .join(', ')}]::pg_catalog.int8[] as depths`,

  runInputs: 'select run_id, input from pgflow.runs where run_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[])',

  /** The runs among $1 that are in progress (a cancelled run retried since, for the worker's cancel memory). */
  runsInProgress:
    "select run_id from pgflow.runs where run_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[]) and status operator(pg_catalog.=) 'started'",

  /** The flow of run $1: whether this database holds it (FlowClient with several registrations). */
  runFlow: 'select flow_slug from pgflow.runs where run_id operator(pg_catalog.=) $1::pg_catalog.uuid',

  /** Which of the run ids $1 committed runs have (after start_flows refused a batch with PF008). */
  existingRunIds: 'select run_id from pgflow.runs where run_id operator(pg_catalog.=) any ($1::pg_catalog.uuid[])',

  /** The run's state for wait(): the run, and the first failed step with its error. */
  runOutcome: `select r.run_id, r.flow_slug, r.status, r.input, r.output, r.started_at, r.completed_at,
                      r.failed_at, r.cancel_reason, s.step_slug as failed_step, s.error_message
                 from pgflow.runs r
                 left join lateral (
                   select s.step_slug, s.error_message from pgflow.step_states s
                    where s.run_id operator(pg_catalog.=) r.run_id and s.status operator(pg_catalog.=) 'failed'
                    order by s.failed_at limit 1) s on true
                where r.run_id operator(pg_catalog.=) $1::pg_catalog.uuid`,

  /**
   * A run with its steps (in step order) and tasks, its parent and its child runs (subflows), in one
   * statement so that it is one consistent snapshot. $2: every task (true), or only those that failed an attempt (false, for replays).
   */
  runSnapshot: `select r.run_id, r.flow_slug, r.status, r.input, r.output, r.started_at, r.completed_at, r.failed_at,
                       r.cancelled_at, r.cancel_reason, r.priority, r.concurrency_key, r.concurrency_state,
                       failed.step_slug as failed_step, failed.error_message,
                       (select f.alias from pgflow.flows f
                         where f.flow_slug operator(pg_catalog.=) r.flow_slug) as flow_alias,
                       coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                  'step_slug', s.step_slug, 'status', s.status, 'output', s.output,
                                  'error_message', s.error_message, 'skip_reason', s.skip_reason,
                                  'started_at', s.started_at, 'completed_at', s.completed_at,
                                  'failed_at', s.failed_at, 'skipped_at', s.skipped_at,
                                  'cancelled_at', s.cancelled_at,
                                  'waiting_for_signal', case when s.status operator(pg_catalog.=) 'started'
                                    and exists (select from pgflow.step_tasks w
                                                 where w.run_id operator(pg_catalog.=) s.run_id
                                                   and w.step_slug operator(pg_catalog.=) s.step_slug
                                                   and w.status operator(pg_catalog.=) 'queued'
                                                   and w.message_id is null) then st.signal_name end)
                                  order by st.step_index)
                                   from pgflow.step_states s
                                   join pgflow.steps st on st.flow_slug operator(pg_catalog.=) s.flow_slug
                                                       and st.step_slug operator(pg_catalog.=) s.step_slug
                                  where s.run_id operator(pg_catalog.=) r.run_id), '[]'::pg_catalog.jsonb) as steps,
                       coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                  'step_slug', t.step_slug, 'task_index', t.task_index, 'status', t.status,
                                  'attempts_count', t.attempts_count, 'error_message', t.error_message)
                                  order by t.step_slug, t.task_index)
                                   from pgflow.step_tasks t
                                  where t.run_id operator(pg_catalog.=) r.run_id
                                    and ($2::boolean or t.error_message is not null)),
                                '[]'::pg_catalog.jsonb) as tasks,
                       r.parent_run_id, r.parent_step_slug, r.parent_task_index,
                       coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                  'run_id', c.run_id, 'flow_slug', c.flow_slug, 'step_slug', c.parent_step_slug,
                                  'task_index', c.parent_task_index, 'status', c.status)
                                  order by c.parent_step_slug, c.parent_task_index, c.started_at, c.run_id)
                                   from pgflow.runs c
                                  where c.parent_run_id operator(pg_catalog.=) r.run_id),
                                '[]'::pg_catalog.jsonb) as children
                  from pgflow.runs r
                  left join lateral (
                    select s.step_slug, s.error_message from pgflow.step_states s
                     where s.run_id operator(pg_catalog.=) r.run_id and s.status operator(pg_catalog.=) 'failed'
                     order by s.failed_at limit 1) failed on true
                 where r.run_id operator(pg_catalog.=) $1::pg_catalog.uuid`,

  /**
   * What the boot check needs: the database's name, whether the pgflow schema exists, and TypeORM's
   * migrations table ($1 schema, or the current one; $2 name) as a regclass text, null when absent or
   * when this role may not read it (an API role granted only the engine's functions).
   */
  migrationsState: `select pg_catalog.current_database() as database,
                            pg_catalog.to_regnamespace('pgflow') is not null as has_engine,
                            case when pg_catalog.has_table_privilege(t.oid, 'select')
                                 then t.oid::pg_catalog.regclass::pg_catalog.text end as migrations_table
                       from (select pg_catalog.to_regclass(pg_catalog.format('%I.%I',
                                      coalesce($1::pg_catalog.text, pg_catalog.current_schema()), $2::pg_catalog.text))::pg_catalog.oid
                               as oid) as t`,

  /** The migrations TypeORM recorded; `table` is a regclass text from migrationsState (quoted by PostgreSQL). */
  appliedMigrations: (table: string) => `select name from ${table}`,

  listen: (channel: string) => `listen ${quoteIdentifier(channel)}`,
  unlisten: (channel: string) => `unlisten ${quoteIdentifier(channel)}`,
} as const;
