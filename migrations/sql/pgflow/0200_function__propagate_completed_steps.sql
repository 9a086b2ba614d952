-- Completed steps release their dependents, and count down the run's remaining steps. Returns how
-- many dependents became ready (no dependency left): when none did, there is nothing to start.
-- A started run whose last steps these were completes in the same update, with the output
-- _complete_finished_runs would give it: one row version per run less than completing it after (5-7 %
-- less time per run in a batched drain of one-step runs, docs/SCALING.md).
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
  v_done pgflow.runs[];
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

  with counted as (
    update pgflow.runs r
       set remaining_steps = r.remaining_steps - done.steps,
           status = case when r.remaining_steps = done.steps and r.status = 'started' then 'completed'
                         else r.status end,
           completed_at = case when r.remaining_steps = done.steps and r.status = 'started' then now()
                               else r.completed_at end,
           output = case when r.remaining_steps = done.steps and r.status = 'started' then coalesce((
             select jsonb_object_agg(s.step_slug, s.output)
               from pgflow.step_states s
              where s.run_id = r.run_id and s.status = 'completed'
                and not exists (select 1 from pgflow.deps dep
                                 where dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug)), '{}'::jsonb)
             else r.output end
      from (select d.run_id, count(*)::int as steps from unnest(p_run_ids) d(run_id) group by d.run_id) done
     where r.run_id = done.run_id
    returning r
  )
  select array_agg(c.r) filter (where (c.r).status = 'completed' and (c.r).remaining_steps = 0) into v_done
    from counted c;
  if v_done is not null then
    perform pgflow._runs_completed(v_done);
  end if;
  return v_ready;
end;
$$;
