-- Checks the conditions of the steps that are ready to start. Condition input: the run input for a
-- root step, else the object of its completed dependencies' outputs. Returns how many were unmet.
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
