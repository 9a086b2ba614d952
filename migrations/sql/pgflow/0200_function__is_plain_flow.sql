-- Whether the claimed start and report (_start_claimed_run, _complete_plain_task) may serve a flow at
-- all: it exists under this slug, is not paused, and has no rate or concurrency limit, on itself or on
-- a step (each of those decides, in the general path, what may be read and started). Each path then
-- checks its own steps.
create function pgflow._is_plain_flow(p_flow_slug text)
returns boolean
language plpgsql
stable
set search_path to ''
as $$
begin
  return exists (
    select 1 from pgflow.flows flow
     where flow.flow_slug = p_flow_slug
       and flow.paused_at is null and flow.opt_rate_limit is null and flow.opt_concurrency is null
       and flow.opt_concurrency_per_key is null
       and not exists (select 1 from pgflow.steps step
                        where step.flow_slug = flow.flow_slug and step.opt_concurrency is not null));
end;
$$;
