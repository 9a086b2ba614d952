/**
 * Claiming tasks: start_tasks (the second phase of polling) and the visibility helper it uses.
 */

import { ENTRY_SETTINGS } from './entry-settings.ts';

export const createSetVtBatch = /* sql */ `
create function pgflow.set_vt_batch(queue_name text, msg_ids bigint[], vt_offsets int[])
returns table (msg_id bigint, read_ct int, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb)
language plpgsql
volatile
set search_path to ''
as $$
begin
  if cardinality(set_vt_batch.msg_ids) is distinct from cardinality(set_vt_batch.vt_offsets) then
    raise exception using errcode = 'PF007',
      message = format('set_vt_batch got %s message ids but %s offsets.',
                       cardinality(set_vt_batch.msg_ids), cardinality(set_vt_batch.vt_offsets)),
      hint = 'Pass one visibility offset (in seconds) per message id.';
  end if;
  return query execute format(
    'update pgmq.%I q
        set vt = clock_timestamp() + make_interval(secs => v.vt_offset)
       from unnest($1::bigint[], $2::int[]) as v(msg_id, vt_offset)
      where q.msg_id = v.msg_id
     returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers',
    pgmq.format_table_name(set_vt_batch.queue_name, 'q'))
  using set_vt_batch.msg_ids, set_vt_batch.vt_offsets;
end;
$$;
`;

/** The task behind one queue message (see _find_task for why lookups go through functions). */
export const createFindTaskByMessage = /* sql */ `
create function pgflow._find_task_by_message(p_flow_slug text, p_msg_id bigint)
returns table (ctid tid, run_id uuid, step_slug text, status text)
language sql
stable
rows 1
set search_path to ''
as $$
  select t.ctid, t.run_id, t.step_slug, t.status
    from pgflow.step_tasks t
   where t.flow_slug = p_flow_slug and t.message_id = p_msg_id
$$;
`;

/**
 * Starts the tasks behind the given messages, for a registered worker (start_tasks' core). Beyond
 * start_tasks' record it returns the attempt number and the effective timeout, and it leaves
 * flow_input null for the runs in p_known_run_ids and for all but the first task of a run in the
 * batch: a big run input crosses the wire once per worker, not once per task.
 */
export const createStartTasksInternal = /* sql */ `
create function pgflow._start_tasks(
  p_flow_slug text, p_msg_ids bigint[], p_worker_id uuid, p_known_run_ids uuid[] default null,
  p_read_vt int default null
)
returns table (flow_slug text, run_id uuid, step_slug text, input jsonb, msg_id bigint, task_index int,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_candidates tid[];
  v_started tid[];
  v_msg_ids bigint[];
  v_offsets int[];
begin
  -- Queued tasks behind the messages, of runs and steps that are still started. A run failing at
  -- this very moment may still have a task started here; its completion will then change nothing.
  with found as (
    select t.ctid, t.run_id, t.step_slug
      from pgflow.step_tasks t
     where t.message_id = any(p_msg_ids) and t.flow_slug = p_flow_slug and t.status = 'queued'
  ),
  live as (
    select k.run_id, k.step_slug
      from (select distinct f.run_id, f.step_slug from found f) k
     where exists (select 1 from pgflow.runs r where r.run_id = k.run_id and r.status = 'started')
       and exists (select 1 from pgflow.step_states s
                    where s.run_id = k.run_id and s.step_slug = k.step_slug and s.status = 'started')
  )
  select array_agg(f.ctid) into v_candidates
    from found f join live l on l.run_id = f.run_id and l.step_slug = f.step_slug;
  if v_candidates is null then
    return;
  end if;

  -- By ctid only: the one plan the planner can choose is a TID scan.
  with started as (
    update pgflow.step_tasks t
       set status = 'started', started_at = now(), attempts_count = t.attempts_count + 1,
           last_worker_id = p_worker_id
     where t.ctid = any(v_candidates) and t.status = 'queued'
    returning t.ctid, t.step_slug, t.message_id
  )
  , offsets as (
    -- The task stays invisible for the step's timeout (else the flow's) plus 2 seconds.
    select st.ctid, st.message_id, coalesce(step.opt_timeout, flow.opt_timeout) + 2 as vt_offset
      from started st
      join pgflow.steps step on step.flow_slug = p_flow_slug and step.step_slug = st.step_slug
      join pgflow.flows flow on flow.flow_slug = p_flow_slug
  )
  select array_agg(o.ctid),
         -- A message read with this very offset a moment ago (p_read_vt) needs no second update.
         array_agg(o.message_id) filter (where o.vt_offset is distinct from p_read_vt),
         array_agg(o.vt_offset) filter (where o.vt_offset is distinct from p_read_vt)
    into v_started, v_msg_ids, v_offsets
    from offsets o;
  if v_started is null then
    return;
  end if;
  if v_msg_ids is not null then
    perform from pgflow.set_vt_batch(p_flow_slug, v_msg_ids, v_offsets);
  end if;

  return query
  select p_flow_slug, t.run_id, t.step_slug,
         case when step.step_type = 'map' then t.input
              else coalesce((select jsonb_object_agg(dep.dep_slug, dep_state.output)
                               from pgflow.deps dep
                               join pgflow.step_states dep_state
                                 on dep_state.run_id = t.run_id and dep_state.step_slug = dep.dep_slug
                              where dep.flow_slug = p_flow_slug and dep.step_slug = t.step_slug
                                and dep_state.status = 'completed'), '{}'::jsonb)
         end,
         t.message_id, t.task_index,
         case when p_known_run_ids is null then (select r.input from pgflow.runs r where r.run_id = t.run_id)
              when t.run_id = any(p_known_run_ids)
                or t.message_id <> min(t.message_id) over (partition by t.run_id) then null
              else (select r.input from pgflow.runs r where r.run_id = t.run_id) end,
         t.attempts_count, coalesce(step.opt_timeout, flow.opt_timeout)
    from pgflow.step_tasks t
    join pgflow.steps step on step.flow_slug = p_flow_slug and step.step_slug = t.step_slug
    join pgflow.flows flow on flow.flow_slug = p_flow_slug
   where t.ctid = any(v_started)
   order by t.message_id;
end;
$$;
`;

export const createStartTasks = /* sql */ `
create function pgflow.start_tasks(flow_slug text, msg_ids bigint[], worker_id uuid)
returns setof pgflow.step_task_record
language sql
volatile${ENTRY_SETTINGS}
as $$
  select t.flow_slug, t.run_id, t.step_slug, t.input, t.msg_id, t.task_index, t.flow_input
    from pgflow._start_tasks(start_tasks.flow_slug, start_tasks.msg_ids, start_tasks.worker_id) t;
$$;
`;

/**
 * The worker's poll, in one round trip and one transaction: read up to p_qty messages and start
 * their tasks. A message that can never start (its task is missing or over, or its run or step is)
 * is archived here instead of coming back after every visibility timeout.
 */
export const createClaimTasks = /* sql */ `
create function pgflow._claim_tasks(
  p_flow_slug text, p_qty int, p_visibility_timeout int, p_worker_id uuid, p_known_run_ids uuid[] default '{}'
)
returns table (flow_slug text, run_id uuid, step_slug text, input jsonb, msg_id bigint, task_index int,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
declare
  v_msg_ids bigint[];
  v_dead bigint[];
  v_read_vt int;
  v_started int;
begin
  -- Read and start share this transaction, so the messages can be read with the visibility their
  -- tasks get when started (the longest step timeout + 2): most then need no second update.
  select greatest(p_visibility_timeout, max(coalesce(step.opt_timeout, flow.opt_timeout)) + 2) into v_read_vt
    from pgflow.steps step join pgflow.flows flow on flow.flow_slug = step.flow_slug
   where step.flow_slug = p_flow_slug;
  select array_agg(m.msg_id) into v_msg_ids
    from pgmq.read(p_flow_slug, coalesce(v_read_vt, p_visibility_timeout), p_qty) m;
  if v_msg_ids is null then
    return;
  end if;
  return query
    select * from pgflow._start_tasks(p_flow_slug, v_msg_ids, p_worker_id, coalesce(p_known_run_ids, '{}'), v_read_vt);
  get diagnostics v_started = row_count;
  if v_started = cardinality(v_msg_ids) then
    return;
  end if;

  select array_agg(m.msg_id) into v_dead
    from unnest(v_msg_ids) as m(msg_id)
    left join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task on true
   where task.run_id is null
      or task.status in ('completed', 'failed')
      or (task.status = 'queued'
          and (not exists (select 1 from pgflow.runs r where r.run_id = task.run_id and r.status = 'started')
               or not exists (select 1 from pgflow.step_states s where s.run_id = task.run_id
                                 and s.step_slug = task.step_slug and s.status = 'started')));
  if v_dead is not null then
    perform pgmq.archive(p_flow_slug, v_dead);
  end if;
end;
$$;
`;

/**
 * Hands tasks back at shutdown: those still started by this worker go back to queued, without
 * counting the interrupted attempt, and their messages become visible at once.
 */
export const createReleaseTasks = /* sql */ `
create function pgflow._release_tasks(p_flow_slug text, p_msg_ids bigint[], p_worker_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_released bigint[];
begin
  with released as (
    update pgflow.step_tasks t
       set status = 'queued', attempts_count = greatest(t.attempts_count - 1, 0)
     where t.ctid = any(array(select task.ctid from unnest(p_msg_ids) as m(msg_id)
                               cross join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task))
       and t.status = 'started' and t.last_worker_id = p_worker_id
    returning t.message_id
  )
  select array_agg(r.message_id) into v_released from released r;
  if v_released is null then
    return 0;
  end if;
  perform from pgflow.set_vt_batch(p_flow_slug, v_released, array_fill(0, array[cardinality(v_released)]));
  return cardinality(v_released);
end;
$$;
`;

/**
 * When the next message of a queue that a worker could start becomes visible: a delayed step's, a
 * retry's, a message handed back (null: none). Messages of tasks in flight are left out: their
 * visibility is their tasks' timeout, and waiting for it would delay the others.
 */
export const createNextVisibleAt = /* sql */ `
create function pgflow._next_visible_at(p_queue_name text)
returns timestamptz
language plpgsql
stable
set search_path to ''
as $$
declare
  v_next timestamptz;
begin
  execute format(
    'select min(q.vt) from pgmq.%I q
      where not exists (select 1 from pgflow.step_tasks t
                         where t.flow_slug = $1 and t.message_id = q.msg_id and t.status = ''started'')',
    pgmq.format_table_name(p_queue_name, 'q'))
  into v_next using p_queue_name;
  return v_next;
end;
$$;
`;

/**
 * The worker's whole round trip: report finished tasks (complete_tasks, fail_tasks), then claim up
 * to p_qty tasks of p_flow_slug, in one statement and one commit. A task that a completion makes
 * ready is claimed by the same call, so a chain moves on without waiting for a notification. When
 * nothing was claimed, one row with null task columns tells when the queue's next message becomes
 * visible (next_visible_at, with the database's clock in db_now).
 */
export const createReportAndClaim = /* sql */ `
create function pgflow._report_and_claim(
  p_completions jsonb, p_failures jsonb, p_flow_slug text, p_qty int, p_visibility_timeout int,
  p_worker_id uuid, p_known_run_ids uuid[] default '{}'
)
returns table (run_id uuid, step_slug text, task_index int, msg_id bigint, input jsonb, flow_input jsonb,
               attempt int, timeout_seconds int, next_visible_at timestamptz, db_now timestamptz)
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
declare
  v_claimed int := 0;
  v_claiming boolean := p_flow_slug is not null and p_qty > 0;
begin
  -- Report first, then claim. Never the other way round: a claim reads messages with FOR UPDATE
  -- SKIP LOCKED, and in READ COMMITTED that can leave a lock on a message another worker claimed
  -- a moment ago (locked, re-checked, found invisible, kept locked until the commit). Reporting
  -- locks runs and then archives its own messages; a claim that went first would wait for those
  -- runs while holding such a lock, and two workers would deadlock.
  if jsonb_array_length(coalesce(p_completions, '[]')) > 0 then
    perform pgflow.complete_tasks(p_completions);
  end if;
  if jsonb_array_length(coalesce(p_failures, '[]')) > 0 then
    perform pgflow.fail_tasks(p_failures);
  end if;
  if not v_claiming then
    return;
  end if;
  -- Then what is ready, the report's next steps included, in one read.
  return query
    select c.run_id, c.step_slug, c.task_index, c.msg_id, c.input, c.flow_input, c.attempt, c.timeout_seconds,
           null::timestamptz, null::timestamptz
      from pgflow._claim_tasks(p_flow_slug, p_qty, p_visibility_timeout, p_worker_id, p_known_run_ids) c;
  get diagnostics v_claimed = row_count;
  if v_claimed = 0 then
    return query
      select null::uuid, null::text, null::int, null::bigint, null::jsonb, null::jsonb, null::int, null::int,
             pgflow._next_visible_at(p_flow_slug), clock_timestamp();
  end if;
end;
$$;
`;
