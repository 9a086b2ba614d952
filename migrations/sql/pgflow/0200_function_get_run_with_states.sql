-- A run and its step states as one JSON value (pgflow's snapshot helper).
create function pgflow.get_run_with_states(run_id uuid)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select jsonb_build_object(
           'run', to_jsonb(r),
           'steps', coalesce((select jsonb_agg(to_jsonb(s) order by step.step_index)
                                from pgflow.step_states s
                                join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
                               where s.run_id = r.run_id), '[]'::jsonb))
    from pgflow.runs r
   where r.run_id = get_run_with_states.run_id
$$;
