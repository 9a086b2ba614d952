create function pgflow._complete_tasks(
  p_run_ids uuid[], p_step_slugs text[], p_task_indexes int[], p_outputs jsonb[], p_attempts int[] default null
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_live_runs uuid[];
  v_live_steps text[];
  v_dead_runs uuid[];
  v_dead_steps text[];
  v_violation record;
  v_message text;
  v_queue record;
  v_ctids tid[];
  -- Each task's output by its row address (ctid::text), looked up by a binary search of the object's
  -- keys (an array_position per task made a batch's cost grow with its square). Of a task reported
  -- twice in one batch, the first report's output (the last value of a key wins in jsonb).
  v_outputs jsonb;
  v_done_runs uuid[];
  v_done_steps text[];
  v_done_flows text[];
  v_done_messages bigint[];
  v_completed pgflow.step_states[];
  v_limits pgflow.limits := pgflow._limits();
  v_too_large record;
begin
  -- Lock the runs, then their step states, in key order. Locked, their statuses cannot change
  -- under this transaction, so the step states found here sort the batch into live (run and step
  -- started: complete) and dead (either one over: a late call, whose message is only archived).
  -- (Subflows: their ancestor runs before them, see _lock_runs.)
  perform pgflow._lock_runs(p_run_ids);

  -- An output larger than max_output_bytes is not stored: its attempt fails (and is retried like any
  -- failure). Rare; the tasks it fails are no longer started, so the rest below passes them by.
  select array_agg(i.run_id) as run_ids, array_agg(i.step_slug) as step_slugs,
         array_agg(i.task_index) as task_indexes, array_agg(i.attempt) as attempts,
         array_agg(format('[OUTPUT_TOO_LARGE] The output of step %L is %s bytes; the limit is %s '
                          '(pgflow.limits.max_output_bytes). Return less (store large data elsewhere and '
                          'return a reference), or raise the limit.',
                          i.step_slug, pg_column_size(i.output), v_limits.max_output_bytes)) as errors
    into v_too_large
    from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_outputs, coalesce(p_attempts, '{}'))
           as i(run_id, step_slug, task_index, output, attempt)
   where pg_column_size(i.output) > v_limits.max_output_bytes;
  if v_too_large.run_ids is not null then
    perform pgflow._fail_tasks(v_too_large.run_ids, v_too_large.step_slugs, v_too_large.task_indexes,
                               v_too_large.errors, p_attempts => v_too_large.attempts);
  end if;

  with pairs as (
    select s.run_id, s.step_slug, s.status = 'started' and r.status = 'started' as live
      from (select distinct k.run_id, k.step_slug from unnest(p_run_ids, p_step_slugs) as k(run_id, step_slug)) k
      join pgflow.step_states s on s.run_id = k.run_id and s.step_slug = k.step_slug
      join pgflow.runs r on r.run_id = s.run_id
     order by s.run_id, s.step_slug
       for update of s
  )
  select array_agg(p.run_id) filter (where p.live), array_agg(p.step_slug) filter (where p.live),
         array_agg(p.run_id) filter (where not p.live), array_agg(p.step_slug) filter (where not p.live)
    into v_live_runs, v_live_steps, v_dead_runs, v_dead_steps
    from pairs p;

  -- A single step that feeds a map step must output an array, or the map has nothing to map over,
  -- of at most max_map_tasks elements. Only such outputs, of live single steps with a map dependent,
  -- are looked at.
  for v_violation in
    select distinct on (i.run_id, i.step_slug, i.task_index)
           i.run_id, i.step_slug, i.task_index, i.attempt, coalesce(i.output, 'null'::jsonb) as output,
           child.step_slug as map_slug
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_outputs, coalesce(p_attempts, '{}'))
             as i(run_id, step_slug, task_index, output, attempt)
      join unnest(v_live_runs, v_live_steps) as live(run_id, step_slug)
        on live.run_id = i.run_id and live.step_slug = i.step_slug
      join pgflow.step_states s on s.run_id = i.run_id and s.step_slug = i.step_slug
      join pgflow.steps step
        on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug and step.step_type = 'single'
      join pgflow.deps dep on dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug
      join pgflow.steps child
        on child.flow_slug = dep.flow_slug and child.step_slug = dep.step_slug and child.step_type = 'map'
     where case jsonb_typeof(coalesce(i.output, 'null'::jsonb))
             when 'array' then jsonb_array_length(i.output) > v_limits.max_map_tasks
             else true end
     order by i.run_id, i.step_slug, i.task_index, child.step_slug
  loop
    if jsonb_typeof(v_violation.output) = 'array' then
      v_message := format('[MAP_TOO_LARGE] Step %L produced an array of %s elements, but map step %L may have '
                          'at most %s tasks (pgflow.limits.max_map_tasks).',
                          v_violation.step_slug, jsonb_array_length(v_violation.output), v_violation.map_slug,
                          v_limits.max_map_tasks);
    else
      v_message := format('[TYPE_VIOLATION] Step %L produced %s, but map step %L depends on it and maps over an array.',
                          v_violation.step_slug, jsonb_typeof(v_violation.output), v_violation.map_slug);
    end if;
    update pgflow.step_tasks t
       set status = 'failed', failed_at = now(), output = v_violation.output, child_run_id = null,
           error_message = case when jsonb_typeof(v_violation.output) = 'array' then v_message
                                else format('[TYPE_VIOLATION] Produced %s instead of an array',
                                            jsonb_typeof(v_violation.output)) end
     where t.run_id = v_violation.run_id and t.step_slug = v_violation.step_slug
       and t.task_index = v_violation.task_index and t.status = 'started'
       and (v_violation.attempt is null or t.attempts_count = v_violation.attempt)
       and exists (select 1 from pgflow.runs r where r.run_id = t.run_id and r.status = 'started');
    if found then
      perform pgflow._queue_archive(t.flow_slug, array[t.message_id])
         from pgflow.step_tasks t
        where t.run_id = v_violation.run_id and t.step_slug = v_violation.step_slug
          and t.task_index = v_violation.task_index and t.message_id is not null;
      perform pgflow._fail_run(v_violation.run_id, v_violation.step_slug, v_message);
    end if;
  end loop;

  -- The tasks to complete, found one key at a time, then updated by ctid: a TID scan whatever the
  -- statistics. A map step has thousands of tasks under one (run_id, step_slug), and a planner
  -- without statistics may match only that prefix in a join and scan them all per key: the lateral
  -- subquery is kept apart from the join (offset 0), so each key is one probe of the primary key.
  -- Written here rather than as a SQL function: a SQL function with a SET clause is not inlined, and
  -- its body was parsed and planned again at every call of this statement (22 µs per report of one
  -- task, 3.5 µs per task in a batch of 100).
  with found as (
    select task.ctid, coalesce(i.output, 'null'::jsonb) as output, i.n
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_outputs, coalesce(p_attempts, '{}'))
             with ordinality as i(run_id, step_slug, task_index, output, attempt, n)
      join unnest(v_live_runs, v_live_steps) as live(run_id, step_slug)
        on live.run_id = i.run_id and live.step_slug = i.step_slug
      cross join lateral (
        select t.ctid, t.status, t.attempts_count
          from pgflow.step_tasks t
         where t.run_id = i.run_id and t.step_slug = i.step_slug and t.task_index = i.task_index
        offset 0) task
     where task.status = 'started'
       -- A report of another attempt than the one running changes nothing (see _fail_tasks).
       and (i.attempt is null or task.attempts_count = i.attempt)
  )
  select array_agg(f.ctid), jsonb_object_agg(f.ctid::text, f.output order by f.n desc)
    into v_ctids, v_outputs
    from found f;

  if v_ctids is not null then
    -- "is true": a condition the planner cannot answer from the partial index of started tasks
    -- (step_tasks_started_idx), so that the TID scan is its one plan. With statistics that show few
    -- started tasks it chose that index, read every started task and compared its ctid with each of
    -- the batch's: O(tasks in flight × batch) per report.
    with done as (
      update pgflow.step_tasks t
         set status = 'completed', completed_at = now(), output = v_outputs -> t.ctid::text,
             child_run_id = null
       where t.ctid = any(v_ctids) and (t.status = 'started') is true
         -- A violation above may have failed the run of some of these tasks.
         and exists (select 1 from pgflow.runs r where r.run_id = t.run_id and r.status = 'started')
      returning t.run_id, t.step_slug, t.flow_slug, t.message_id
    )
    select array_agg(d.run_id), array_agg(d.step_slug), array_agg(d.flow_slug), array_agg(d.message_id)
      into v_done_runs, v_done_steps, v_done_flows, v_done_messages
      from done d;
  end if;

  for v_queue in
    select m.flow_slug, array_agg(distinct m.message_id) as ids
      from (
        select d.flow_slug, d.message_id from unnest(v_done_flows, v_done_messages) as d(flow_slug, message_id)
        union all
        -- A late call on a run or step that is over: its task will never run, drop its message.
        select task.flow_slug, task.message_id
          from unnest(p_run_ids, p_step_slugs, p_task_indexes) as i(run_id, step_slug, task_index)
          join unnest(v_dead_runs, v_dead_steps) as dead(run_id, step_slug)
            on dead.run_id = i.run_id and dead.step_slug = i.step_slug
          cross join lateral (
            select t.flow_slug, t.message_id, t.status
              from pgflow.step_tasks t
             where t.run_id = i.run_id and t.step_slug = i.step_slug and t.task_index = i.task_index
            offset 0) task
         where task.status in ('queued', 'started')
      ) m
     where m.message_id is not null
     group by m.flow_slug
  loop
    perform pgflow._queue_archive(v_queue.flow_slug, v_queue.ids);
  end loop;
  if v_done_flows is not null then
    -- Slots of concurrency-limited flows just freed: their workers claim now.
    perform pgflow._wake_limited_flows(array(select distinct f from unnest(v_done_flows) f));
  end if;
  if v_done_runs is null then
    return 0;
  end if;

  with finished as (
    select d.run_id, d.step_slug, count(*)::int as tasks
      from unnest(v_done_runs, v_done_steps) as d(run_id, step_slug)
     group by d.run_id, d.step_slug
  ),
  updated as (
    update pgflow.step_states s
       set remaining_tasks = s.remaining_tasks - f.tasks,
           status = case when s.remaining_tasks = f.tasks then 'completed' else s.status end,
           completed_at = case when s.remaining_tasks = f.tasks then now() end,
           output = case
             when s.remaining_tasks <> f.tasks then null
             -- A map step's output: its tasks' outputs in task order, whatever the completion order.
             when step.step_type = 'map' then
               (select jsonb_agg(t.output order by t.task_index) from pgflow.step_tasks t
                 where t.run_id = s.run_id and t.step_slug = s.step_slug)
             else
               (select t.output from pgflow.step_tasks t
                 where t.run_id = s.run_id and t.step_slug = s.step_slug and t.task_index = 0)
           end
      from finished f, pgflow.steps step
     where s.run_id = f.run_id and s.step_slug = f.step_slug
       and step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
    returning s.*
  )
  select array_agg(u order by u.run_id, u.step_slug) filter (where u.status = 'completed')
    into v_completed
    from updated u;

  if v_completed is not null then
    perform pgflow._emit_step_events('step:completed', v_completed);
    if pgflow._propagate_completed_steps(
         array(select s.run_id from unnest(v_completed) s),
         array(select s.step_slug from unnest(v_completed) s)) > 0 then
      perform pgflow._advance_runs(array(select distinct s.run_id from unnest(v_completed) s));
    else
      -- No dependent became ready, so nothing can start or be skipped: only the runs whose last
      -- steps these were are left to complete.
      perform pgflow._complete_finished_runs(array(select distinct s.run_id from unnest(v_completed) s));
    end if;
  end if;
  return cardinality(v_done_runs);
end;
$$;
