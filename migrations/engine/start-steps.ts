/**
 * Starting steps and finishing runs, set-based over many runs, and the loop that ties the cascade
 * together (_advance_runs), with the public single-run functions of pgflow's API on top.
 */

import { ENTRY_SETTINGS } from './entry-settings.ts';

/**
 * Starts every ready step (created, no remaining dependency, at least one task) of the given runs:
 * one task row per task, and one queue message per task sent in one batch per flow and start delay.
 * A map task's element is stored on its row so that claiming it never re-reads the whole array.
 */
export const createStartReadyStepsInternal = /* sql */ `
create function pgflow._start_ready_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_started pgflow.step_states[];
  v_batch record;
begin
  with started as (
    update pgflow.step_states s
       set status = 'started', started_at = now(), remaining_tasks = s.initial_tasks
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks > 0
    returning s.*
  )
  select array_agg(started) into v_started from started;
  if v_started is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:started', v_started);

  for v_batch in
    select distinct s.flow_slug, coalesce(step.opt_start_delay, 0) as delay
      from unnest(v_started) s
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
  loop
    with tasks as materialized (
      select s.flow_slug, s.run_id, s.step_slug, task.task_index, task.input,
             row_number() over (order by s.run_id, s.step_slug, task.task_index) as position
        from unnest(v_started) s
        join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
        join pgflow.runs r on r.run_id = s.run_id
        cross join lateral (
          select 0 as task_index, null::jsonb as input
           where step.step_type = 'single'
          union all
          select (element.position - 1)::int, element.value
            from jsonb_array_elements(
                   case when step.step_type <> 'map' then null
                        when step.deps_count = 0 then r.input
                        else (select parent.output
                                from pgflow.deps dep
                                join pgflow.step_states parent
                                  on parent.run_id = s.run_id and parent.step_slug = dep.dep_slug
                               where dep.flow_slug = step.flow_slug and dep.step_slug = step.step_slug)
                   end) with ordinality as element(value, position)
        ) task
       where s.flow_slug = v_batch.flow_slug and coalesce(step.opt_start_delay, 0) = v_batch.delay
    ),
    sent as (
      -- send_batch returns the ids in ascending order, the order of the messages in the array.
      select message.id, row_number() over (order by message.id) as position
        from pgmq.send_batch(
               v_batch.flow_slug,
               (select array_agg(jsonb_build_object('flow_slug', t.flow_slug, 'run_id', t.run_id,
                                                    'step_slug', t.step_slug, 'task_index', t.task_index)
                                 order by t.position)
                  from tasks t),
               v_batch.delay) as message(id)
    )
    insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id, input)
    select t.flow_slug, t.run_id, t.step_slug, t.task_index, sent.id, t.input
      from tasks t join sent on sent.position = t.position;

    if v_batch.delay = 0 then
      -- Wakes idle workers of this flow at once instead of at their next poll.
      perform pg_notify('pgflow:work', v_batch.flow_slug);
    end if;
  end loop;
  return cardinality(v_started);
end;
$$;
`;

/** Completes the runs that have no step left: output = one key per completed leaf step. */
export const createCompleteFinishedRuns = /* sql */ `
create function pgflow._complete_finished_runs(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.runs[];
begin
  with done as (
    update pgflow.runs r
       set status = 'completed',
           completed_at = now(),
           output = coalesce((
             select jsonb_object_agg(s.step_slug, s.output)
               from pgflow.step_states s
              where s.run_id = r.run_id and s.status = 'completed'
                and not exists (select 1 from pgflow.deps dep
                                 where dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug)), '{}'::jsonb)
     where r.run_id = any(p_run_ids) and r.status = 'started' and r.remaining_steps = 0
    returning r.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._emit_run_events('run:completed', v_done);
  return cardinality(v_done);
end;
$$;
`;

/**
 * The cascade after any change: resolve conditions and complete taskless steps until nothing
 * changes (each pass can make more steps ready; no fixed cap, a DAG is finite), then start what is
 * ready, then complete the runs that have nothing left.
 */
export const createAdvanceRuns = /* sql */ `
create function pgflow._advance_runs(p_run_ids uuid[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- Conditions and steps without tasks exist only in flows with conditional or map steps: most
  -- flows skip the loop after one look at their definitions.
  if exists (select 1 from pgflow.runs r join pgflow.steps step on step.flow_slug = r.flow_slug
              where r.run_id = any(p_run_ids)
                and (step.step_type = 'map' or step.required_input_pattern is not null
                     or step.forbidden_input_pattern is not null)) then
    loop
      exit when pgflow._resolve_conditions(p_run_ids) + pgflow._complete_taskless_steps(p_run_ids) = 0;
    end loop;
  end if;
  perform pgflow._start_ready_steps(p_run_ids);
  perform pgflow._complete_finished_runs(p_run_ids);
end;
$$;
`;

export const createPublicCascadeFunctions = /* sql */ `
create function pgflow.start_ready_steps(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._start_ready_steps(array[start_ready_steps.run_id]);
$$;

create function pgflow.maybe_complete_run(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._complete_finished_runs(array[maybe_complete_run.run_id]);
$$;

create function pgflow.cascade_complete_taskless_steps(run_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_total int := 0;
  v_round int;
begin
  loop
    v_round := pgflow._complete_taskless_steps(array[cascade_complete_taskless_steps.run_id]);
    exit when v_round = 0;
    v_total := v_total + v_round;
  end loop;
  return v_total;
end;
$$;
`;

/**
 * Starts one run per element of \`inputs\` (a JSON array), in one transaction and a handful of
 * statements whatever their number: what a batch start costs is about what one start costs, per
 * statement. \`run_ids\` (optional) gives each run its id, in the same order. All or nothing: an
 * input a root map step cannot map over, or an id that exists, refuses the whole batch. Returns
 * the runs in the order of the inputs.
 */
export const createStartFlows = /* sql */ `
create function pgflow.start_flows(flow_slug text, inputs jsonb, run_ids uuid[] default null)
returns setof pgflow.runs
language plpgsql
volatile${ENTRY_SETTINGS}
as $$
declare
  v_count int;
  v_root_map text;
  v_bad record;
  v_ids uuid[];
  v_runs pgflow.runs[];
begin
  if jsonb_typeof(start_flows.inputs) is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('inputs must be a JSON array (one element per run), not %s.',
                       coalesce(jsonb_typeof(start_flows.inputs), 'null')),
      hint = 'Pass ["input of run 1", "input of run 2", ...].';
  end if;
  v_count := jsonb_array_length(start_flows.inputs);
  if start_flows.run_ids is not null and cardinality(start_flows.run_ids) is distinct from v_count then
    raise exception using errcode = 'PF007',
      message = format('start_flows got %s inputs but %s run ids.', v_count, coalesce(cardinality(start_flows.run_ids), 0)),
      hint = 'Pass one run id per input (a null element lets the engine choose it), or run_ids => null.';
  end if;
  perform 1 from pgflow.flows f where f.flow_slug = start_flows.flow_slug;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist.', start_flows.flow_slug),
      hint = 'Check the slug, or compile the flow first (pgflow.create_flow / ensure_flow_compiled).';
  end if;
  select s.step_slug into v_root_map from pgflow.steps s
   where s.flow_slug = start_flows.flow_slug and s.step_type = 'map' and s.deps_count = 0
   order by s.step_index limit 1;
  if v_root_map is not null then
    select x.n, jsonb_typeof(x.value) as type into v_bad
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
     where jsonb_typeof(x.value) <> 'array'
     order by x.n limit 1;
    if found then
      raise exception using errcode = 'PF006',
        message = format('Flow %L maps over its input in step %L, so its input must be a JSON array, not %s.',
                         start_flows.flow_slug, v_root_map, v_bad.type)
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Pass a JSON array as the input, e.g. ["a", "b"].';
    end if;
  end if;
  if v_count = 0 then
    return;
  end if;

  select array_agg(coalesce(start_flows.run_ids[n], gen_random_uuid()) order by n) into v_ids
    from generate_series(1, v_count) n;
  with inserted as (
    insert into pgflow.runs (run_id, flow_slug, input, remaining_steps)
    select i.run_id, start_flows.flow_slug, x.value,
           (select count(*) from pgflow.steps s where s.flow_slug = start_flows.flow_slug)
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
      join unnest(v_ids) with ordinality as i(run_id, n) on i.n = x.n
     order by x.n
    on conflict do nothing
    returning *
  )
  select array_agg(r) into v_runs from inserted r;
  if coalesce(cardinality(v_runs), 0) < v_count then
    -- The first id, in input order, that was not inserted: it existed, or it came twice.
    raise exception using errcode = 'PF008',
      message = format('Run %s already exists.',
                       (select i.run_id
                          from (select u.run_id, u.n, row_number() over (partition by u.run_id order by u.n) as k
                                  from unnest(v_ids) with ordinality as u(run_id, n)) i
                          left join unnest(v_runs) r on r.run_id = i.run_id
                         where i.k > 1 or r.run_id is null
                         order by i.n limit 1)),
      hint = 'Pass a new run_id, or null to let the engine choose one.';
  end if;

  insert into pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks)
  select s.flow_slug, r.run_id, s.step_slug, s.deps_count,
         case when s.step_type = 'single' then 1
              when s.deps_count = 0 and jsonb_typeof(r.input) = 'array' then jsonb_array_length(r.input) end
    from unnest(v_runs) r
    cross join pgflow.steps s
   where s.flow_slug = start_flows.flow_slug;

  perform pgflow._emit_run_events('run:started', v_runs);
  perform pgflow._advance_runs(v_ids);
  return query
    select r.* from unnest(v_ids) with ordinality as i(run_id, n)
      cross join lateral (select * from pgflow.runs x where x.run_id = i.run_id) r
     order by i.n;
end;
$$;
`;

/** One run: start_flows with one input. */
export const createStartFlow = /* sql */ `
create function pgflow.start_flow(flow_slug text, input jsonb, run_id uuid default null)
returns setof pgflow.runs
language sql
volatile${ENTRY_SETTINGS}
as $$
  select * from pgflow.start_flows(start_flow.flow_slug, jsonb_build_array(coalesce(start_flow.input, 'null'::jsonb)),
                                   case when start_flow.run_id is not null then array[start_flow.run_id] end);
$$;
`;
