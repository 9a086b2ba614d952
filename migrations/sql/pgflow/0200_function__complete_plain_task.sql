-- _report_and_claim for a worker's lone result on a plain flow, in a few statements: the task, its step
-- state, its dependents and its run are written as complete_tasks and _claim_tasks would leave them
-- (the steps it makes ready started, their tasks started for p_worker_id, their messages invisible for
-- each step's timeout + 2 seconds), with the same events, instead of through the general functions.
-- As with _start_claimed_run, those messages were never read from the queue: their read_ct is 0.
-- Returns the message ids of the tasks it started (empty when it made none ready), or null, having
-- changed nothing, unless every condition under which the general path would do exactly that holds:
-- - the entry is well formed, names a started task of the flow p_flow_slug (at its attempt, when it
--   gives one) whose step state and run are started, a run without a parent run;
-- - the flow is not paused and has no rate or concurrency limit, on itself or on a step (_is_plain_flow);
-- - the task's step is a single step with no map step depending on it, and the output is well within
--   pgflow.limits.max_output_bytes;
-- - each dependent it makes ready is a single step without a start delay, condition or signal, there
--   are no more of them than p_qty, and when there are some, the queue has no visible message (the
--   general claim would take older messages first).
-- _report_and_claim calls it only for a lone completion, no failure, with a claim and without a poll.
-- A test reports the same results both ways and compares every row, message and event
-- (test/engine/claimed-report.test.ts). Setting pgflow.claimed_start to 'off' turns this path off too.
create function pgflow._complete_plain_task(p_completion jsonb, p_flow_slug text, p_qty int, p_worker_id uuid)
returns bigint[]
language plpgsql
volatile
set jit to off
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_run_id uuid;
  v_step_slug text;
  v_task_index int;
  v_output jsonb := coalesce(p_completion -> 'output', 'null'::jsonb);
  v_message_id bigint;
  v_plan record;
  v_state pgflow.step_states;
  v_run pgflow.runs;
  v_started pgflow.step_states[];
  v_msg_ids bigint[] := '{}';
  v_child record;
begin
  if current_setting('pgflow.claimed_start', true) = 'off' or jsonb_typeof(p_completion) <> 'object'
     or jsonb_typeof(p_completion -> 'run_id') is distinct from 'string'
     or jsonb_typeof(p_completion -> 'step_slug') is distinct from 'string'
     or jsonb_typeof(p_completion -> 'task_index') is distinct from 'number'
     or coalesce(jsonb_typeof(p_completion -> 'attempt'), 'null') not in ('number', 'null') then
    return null;
  end if;
  v_run_id := (p_completion ->> 'run_id')::uuid;
  v_step_slug := p_completion ->> 'step_slug';
  v_task_index := (p_completion ->> 'task_index')::int;
  -- A run with a parent is locked after its ancestors (_lock_runs): looked at before any lock.
  if not exists (select 1 from pgflow.runs r
                  where r.run_id = v_run_id and r.flow_slug = p_flow_slug and r.parent_run_id is null)
     or not pgflow._is_plain_flow(p_flow_slug) then
    return null;
  end if;
  -- The locks of complete_tasks, in its order: the run, then the step state.
  perform 1 from pgflow.runs r where r.run_id = v_run_id for update;
  select t.message_id
    into v_message_id
    from pgflow.step_states s
    join pgflow.runs r on r.run_id = s.run_id
    join pgflow.step_tasks t on t.run_id = s.run_id and t.step_slug = s.step_slug and t.task_index = v_task_index
    join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
    join pgflow.limits l on l.singleton
   where s.run_id = v_run_id and s.step_slug = v_step_slug
     and s.status = 'started' and r.status = 'started' and t.status = 'started'
     and (p_completion -> 'attempt' is null or jsonb_typeof(p_completion -> 'attempt') = 'null'
          or t.attempts_count = (p_completion ->> 'attempt')::int)
     and step.step_type = 'single'
     -- A margin: the general path measures the output as an element of an array, and fails the task.
     and pg_column_size(v_output) < l.max_output_bytes - 64
     for update of s;
  if not found then
    return null;
  end if;
  -- The dependents: none may be a map step, whatever its state (the output it would map over is
  -- checked), and those this completion makes ready must start as a single task each.
  select count(*) filter (where child.status = 'created' and child.remaining_deps = 1) as ready,
         bool_and(step.step_type = 'single'
                  and (child.status <> 'created' or child.remaining_deps > 1
                       or (step.opt_start_delay is null and step.signal_name is null
                           and step.required_input_pattern is null and step.forbidden_input_pattern is null)))
           as plain
    into v_plan
    from pgflow.deps dep
    join pgflow.steps step on step.flow_slug = dep.flow_slug and step.step_slug = dep.step_slug
    join pgflow.step_states child on child.run_id = v_run_id and child.step_slug = dep.step_slug
   where dep.flow_slug = p_flow_slug and dep.dep_slug = v_step_slug;
  if not coalesce(v_plan.plain, true) or v_plan.ready > p_qty then
    return null;
  end if;
  if v_plan.ready > 0 and (select v from pgflow._queue_has_visible(p_flow_slug) v) then
    return null;
  end if;

  update pgflow.step_tasks t
     set status = 'completed', completed_at = now(), output = v_output, child_run_id = null
   where t.run_id = v_run_id and t.step_slug = v_step_slug and t.task_index = v_task_index;
  if v_message_id is not null then
    perform pgflow._queue_archive(p_flow_slug, array[v_message_id]);
  end if;
  update pgflow.step_states s
     set remaining_tasks = s.remaining_tasks - 1,
         status = case when s.remaining_tasks = 1 then 'completed' else s.status end,
         completed_at = case when s.remaining_tasks = 1 then now() end,
         output = case when s.remaining_tasks = 1 then v_output end
   where s.run_id = v_run_id and s.step_slug = v_step_slug
  returning * into v_state;
  -- A single step's one task: the step is completed.
  perform pgflow._emit_step_events('step:completed', array[v_state]);
  update pgflow.step_states child
     set remaining_deps = child.remaining_deps - 1
    from pgflow.deps dep
   where dep.flow_slug = p_flow_slug and dep.dep_slug = v_step_slug
     and child.run_id = v_run_id and child.step_slug = dep.step_slug and child.status = 'created';
  -- The run counts its step down, and completes with its last one (_propagate_completed_steps).
  update pgflow.runs r
     set remaining_steps = r.remaining_steps - 1,
         status = case when r.remaining_steps = 1 then 'completed' else r.status end,
         completed_at = case when r.remaining_steps = 1 then now() else r.completed_at end,
         output = case when r.remaining_steps = 1 then coalesce((
           select jsonb_object_agg(s.step_slug, s.output)
             from pgflow.step_states s
            where s.run_id = r.run_id and s.status = 'completed'
              and not exists (select 1 from pgflow.deps dep
                               where dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug)), '{}'::jsonb)
           else r.output end
   where r.run_id = v_run_id
  returning * into v_run;
  if v_run.status = 'completed' then
    perform pgflow._emit_run_events('run:completed', array[v_run]);
  end if;
  if v_plan.ready = 0 then
    return v_msg_ids;
  end if;

  -- The steps made ready start (_start_ready_steps), their tasks started for the worker (_start_tasks).
  with started as (
    update pgflow.step_states s
       set status = 'started', started_at = now(), remaining_tasks = s.initial_tasks
     where s.run_id = v_run_id and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks > 0
    returning s.*
  )
  select array_agg(started) into v_started from started;
  perform pgflow._emit_step_events('step:started', v_started);
  for v_child in
    select s.step_slug, coalesce(step.opt_timeout, flow.opt_timeout) + 2 as vt_offset
      from unnest(v_started) s
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
      join pgflow.flows flow on flow.flow_slug = s.flow_slug
     order by s.step_slug
  loop
    v_msg_ids := v_msg_ids || pgflow._insert_started_task(p_flow_slug, v_run_id, v_child.step_slug, v_child.vt_offset,
                                                          p_worker_id);
  end loop;
  -- As _wake_after_claim after the general path: the claim took all it asked for.
  if cardinality(v_msg_ids) >= p_qty and pgflow._notifications_allowed() then
    perform pg_notify('pgflow:work', p_flow_slug);
  end if;
  return v_msg_ids;
end;
$$;
