-- The cascade after any change: resolve conditions and complete taskless steps until nothing
-- changes (each pass can make more steps ready; no fixed cap, a DAG is finite), then start what is
-- ready, then complete the runs that have nothing left.
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
