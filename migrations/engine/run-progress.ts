/**
 * How a run moves forward, for many runs at once: every function takes the ids of the runs to
 * advance and works on all of them in a few set-based statements, so a batch of completions costs
 * a handful of statements, not a handful per run. Only runs whose status is 'started' move.
 */

/**
 * Completed steps release their dependents, and count down the run's remaining steps. Returns how
 * many dependents became ready (no dependency left): when none did, there is nothing to start.
 */
export const createPropagateCompletedSteps = /* sql */ `
create function pgflow._propagate_completed_steps(p_run_ids uuid[], p_step_slugs text[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_child_runs uuid[];
  v_child_steps text[];
  v_completed_parents int[];
  v_array_lengths int[];
  v_ready int := 0;
begin
  -- The edges are gathered first and the children updated by key afterwards: as one statement, the
  -- planner (without statistics) may re-run the edge query for every step state of the run.
  select array_agg(edge.run_id), array_agg(edge.step_slug), array_agg(edge.completed_parents),
         array_agg(edge.parent_array_length)
    into v_child_runs, v_child_steps, v_completed_parents, v_array_lengths
    from (
      select parent.run_id, dep.step_slug, count(*)::int as completed_parents,
             -- A dependent map learns how many tasks it has from its (only) dependency's array.
             max(case when child_step.step_type = 'map' then
                   case when parent_step.step_type = 'map' then parent.initial_tasks
                        when jsonb_typeof(parent.output) = 'array' then jsonb_array_length(parent.output) end
                 end) as parent_array_length
        from unnest(p_run_ids, p_step_slugs) as done(run_id, step_slug)
        join pgflow.step_states parent on parent.run_id = done.run_id and parent.step_slug = done.step_slug
        join pgflow.steps parent_step
          on parent_step.flow_slug = parent.flow_slug and parent_step.step_slug = parent.step_slug
        join pgflow.deps dep on dep.flow_slug = parent.flow_slug and dep.dep_slug = parent.step_slug
        join pgflow.steps child_step on child_step.flow_slug = dep.flow_slug and child_step.step_slug = dep.step_slug
       group by parent.run_id, dep.step_slug
    ) edge;

  if v_child_runs is not null then
    with released as (
      update pgflow.step_states child
         set remaining_deps = child.remaining_deps - edge.completed_parents,
             initial_tasks = coalesce(child.initial_tasks, edge.parent_array_length)
        from unnest(v_child_runs, v_child_steps, v_completed_parents, v_array_lengths)
               as edge(run_id, step_slug, completed_parents, parent_array_length)
       where child.run_id = edge.run_id and child.step_slug = edge.step_slug and child.status = 'created'
      returning child.remaining_deps
    )
    select count(*) filter (where r.remaining_deps = 0) into v_ready from released r;
  end if;

  update pgflow.runs r
     set remaining_steps = r.remaining_steps - done.steps
    from (select d.run_id, count(*)::int as steps from unnest(p_run_ids) d(run_id) group by d.run_id) done
   where r.run_id = done.run_id;
  return v_ready;
end;
$$;
`;

export const createSkipSteps = /* sql */ `
create function pgflow._skip_steps(
  p_run_ids uuid[], p_step_slugs text[], p_reason text, p_cascade boolean, p_error_message text default null
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_skipped pgflow.step_states[];
  v_message record;
begin
  with recursive closure(run_id, flow_slug, step_slug, is_initial) as (
    select s.run_id, s.flow_slug, s.step_slug, true
      from unnest(p_run_ids, p_step_slugs) as i(run_id, step_slug)
      join pgflow.step_states s on s.run_id = i.run_id and s.step_slug = i.step_slug
      join pgflow.runs r on r.run_id = s.run_id and r.status = 'started'
     where s.status in ('created', 'started')
    union
    select c.run_id, c.flow_slug, dep.step_slug, false
      from closure c
      join pgflow.deps dep on dep.flow_slug = c.flow_slug and dep.dep_slug = c.step_slug
      join pgflow.steps child on child.flow_slug = dep.flow_slug and child.step_slug = dep.step_slug
     where p_cascade or child.step_type = 'map'
  ),
  targets as (
    select distinct on (run_id, step_slug) run_id, step_slug, is_initial
      from closure order by run_id, step_slug, is_initial desc
  ),
  skipped as (
    update pgflow.step_states s
       set status = 'skipped',
           skipped_at = now(),
           skip_reason = case when t.is_initial then p_reason else 'dependency_skipped' end,
           error_message = case when t.is_initial then p_error_message end
      from targets t
     where s.run_id = t.run_id and s.step_slug = t.step_slug
       and (s.status = 'created' or (t.is_initial and s.status = 'started'))
    returning s.*
  )
  -- In definition order (dependencies before their dependents), whatever order the update took.
  select array_agg(k order by k.run_id, step.step_index) into v_skipped
    from skipped k
    join pgflow.steps step on step.flow_slug = k.flow_slug and step.step_slug = k.step_slug;
  if v_skipped is null then
    return 0;
  end if;

  perform pgflow._emit_step_events('step:skipped', v_skipped);

  -- Tasks of a skipped step that are still queued or running will never count: drop their messages.
  for v_message in
    select t.flow_slug, array_agg(t.message_id) as ids
      from unnest(v_skipped) s
      join pgflow.step_tasks t on t.run_id = s.run_id and t.step_slug = s.step_slug
     where t.status in ('queued', 'started') and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;

  with edge as materialized (
    select s.run_id, dep.step_slug, count(*)::int as skipped_parents
      from unnest(v_skipped) s
      join pgflow.deps dep on dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug
     group by s.run_id, dep.step_slug
  )
  update pgflow.step_states child
     set remaining_deps = child.remaining_deps - edge.skipped_parents
    from edge
   where child.run_id = edge.run_id and child.step_slug = edge.step_slug and child.status = 'created'
     and child.run_id = any(array(select s.run_id from unnest(v_skipped) s));

  update pgflow.runs r
     set remaining_steps = r.remaining_steps - done.steps
    from (select s.run_id, count(*)::int as steps from unnest(v_skipped) s group by s.run_id) done
   where r.run_id = done.run_id;

  return cardinality(v_skipped);
end;
$$;
`;

/** Fails a step and its run, and drops every message the run still has in its queue. */
export const createFailRun = /* sql */ `
create function pgflow._fail_run(p_run_id uuid, p_step_slug text, p_error_message text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_state pgflow.step_states;
  v_run pgflow.runs;
  v_message record;
begin
  update pgflow.step_states s
     set status = 'failed', failed_at = now(), error_message = p_error_message
   where s.run_id = p_run_id and s.step_slug = p_step_slug and s.status in ('created', 'started')
  returning * into v_state;
  update pgflow.runs r
     set status = 'failed', failed_at = now()
   where r.run_id = p_run_id and r.status = 'started'
  returning * into v_run;

  for v_message in
    select t.flow_slug, array_agg(t.message_id) as ids
      from pgflow.step_tasks t
     where t.run_id = p_run_id and t.status in ('queued', 'started') and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;

  if v_state.run_id is not null then
    perform pgflow._emit_step_events('step:failed', array[v_state]);
  end if;
  if v_run.run_id is not null then
    perform pgflow._emit_run_events('run:failed', array[v_run],
      jsonb_build_object('step_slug', p_step_slug, 'error_message', p_error_message));
  end if;
end;
$$;
`;

/**
 * Checks the conditions of the steps that are ready to start. Condition input: the run input for a
 * root step, else the object of its completed dependencies' outputs. Returns how many were unmet.
 */
export const createResolveConditions = /* sql */ `
create function pgflow._resolve_conditions(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_unmet record;
  v_count int := 0;
begin
  for v_unmet in
    select s.run_id, s.step_slug, step.when_unmet
      from pgflow.step_states s
      join pgflow.runs r on r.run_id = s.run_id and r.status = 'started'
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
      cross join lateral (
        select case when step.deps_count = 0 then r.input
                    else coalesce((select jsonb_object_agg(dep_state.step_slug, dep_state.output)
                                     from pgflow.deps dep
                                     join pgflow.step_states dep_state
                                       on dep_state.run_id = s.run_id and dep_state.step_slug = dep.dep_slug
                                    where dep.flow_slug = s.flow_slug and dep.step_slug = s.step_slug
                                      and dep_state.status = 'completed'), '{}'::jsonb)
               end as value
      ) condition_input
     where s.run_id = any(p_run_ids) and s.status = 'created' and s.remaining_deps = 0
       and (step.required_input_pattern is not null or step.forbidden_input_pattern is not null)
       and not ((step.required_input_pattern is null or condition_input.value @> step.required_input_pattern)
                and (step.forbidden_input_pattern is null
                     or not condition_input.value @> step.forbidden_input_pattern))
     -- Failing policies first: a run that fails skips nothing more.
     order by s.run_id, (step.when_unmet = 'fail') desc, s.step_slug
  loop
    v_count := v_count + 1;
    if v_unmet.when_unmet = 'fail' then
      perform pgflow._fail_run(v_unmet.run_id, v_unmet.step_slug,
        format('Condition not met for step %L and its when_unmet policy is ''fail''.', v_unmet.step_slug));
    else
      perform pgflow._skip_steps(array[v_unmet.run_id], array[v_unmet.step_slug], 'condition_unmet',
                                 v_unmet.when_unmet = 'skip-cascade');
    end if;
  end loop;
  return v_count;
end;
$$;
`;

/** Completes ready steps that have no task (maps over an empty array) with output []. */
export const createCompleteTasklessSteps = /* sql */ `
create function pgflow._complete_taskless_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.step_states[];
begin
  with done as (
    update pgflow.step_states s
       set status = 'completed', completed_at = now(), remaining_tasks = 0, output = '[]'::jsonb
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks = 0
    returning s.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:completed', v_done);
  perform pgflow._propagate_completed_steps(
    array(select s.run_id from unnest(v_done) s order by s.run_id, s.step_slug),
    array(select s.step_slug from unnest(v_done) s order by s.run_id, s.step_slug));
  return cardinality(v_done);
end;
$$;
`;
