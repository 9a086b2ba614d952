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
     where p_cascade
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
           error_message = case when t.is_initial then p_error_message end,
           remaining_tasks = null
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
  -- Dependents no longer wait for a skipped step. A map step over a skipped step's output has
  -- nothing to map over: it has no task, and completes with [] (pgflow's rule).
  update pgflow.step_states child
     set remaining_deps = child.remaining_deps - edge.skipped_parents,
         initial_tasks = case when step.step_type = 'map' then 0 else child.initial_tasks end
    from edge, pgflow.steps step
   where child.run_id = edge.run_id and child.step_slug = edge.step_slug and child.status = 'created'
     and step.flow_slug = child.flow_slug and step.step_slug = child.step_slug
     and child.run_id = any(array(select s.run_id from unnest(v_skipped) s));

  update pgflow.runs r
     set remaining_steps = r.remaining_steps - done.steps
    from (select s.run_id, count(*)::int as steps from unnest(v_skipped) s group by s.run_id) done
   where r.run_id = done.run_id;

  return cardinality(v_skipped);
end;
$$;
