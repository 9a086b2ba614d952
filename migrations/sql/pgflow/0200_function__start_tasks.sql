-- Starts the tasks behind the given messages, for a registered worker (start_tasks' core). Beyond
-- start_tasks' record it returns the attempt number and the effective timeout, and it leaves
-- flow_input null for the runs in p_known_run_ids and for all but the first task of a run in the
-- batch: a big run input crosses the wire once per worker, not once per task. A signal step's input
-- is {"payload": <the signal's payload>, "deps": <its dependencies' outputs>}.
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
  -- Each task probes its run and step state by key. (Not by a join of the tasks with their distinct
  -- run and step pairs: its generic plan, planned for a few rows, compared every task with every
  -- pair, and a batch of 500 spent 40 ms there, 1,000 four times as long.)
  select array_agg(t.ctid) into v_candidates
    from pgflow.step_tasks t
   where t.message_id = any(p_msg_ids) and t.flow_slug = p_flow_slug and t.status = 'queued'
     and exists (select 1 from pgflow.runs r where r.run_id = t.run_id and r.status = 'started')
     and exists (select 1 from pgflow.step_states s
                  where s.run_id = t.run_id and s.step_slug = t.step_slug and s.status = 'started');
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
              when step.signal_name is null then deps.outputs
              -- A signal step: the signal's payload, and its dependencies' outputs beside it.
              else jsonb_build_object('payload', (select g.payload from pgflow.signals g
                                                   where g.run_id = t.run_id and g.signal_name = step.signal_name),
                                      'deps', deps.outputs)
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
    cross join lateral (
      select coalesce(jsonb_object_agg(dep.dep_slug, dep_state.output), '{}'::jsonb) as outputs
        from pgflow.deps dep
        join pgflow.step_states dep_state on dep_state.run_id = t.run_id and dep_state.step_slug = dep.dep_slug
       where step.step_type <> 'map' and dep.flow_slug = p_flow_slug and dep.step_slug = t.step_slug
         and dep_state.status = 'completed'
    ) deps
   where t.ctid = any(v_started)
   order by t.message_id;
end;
$$;
