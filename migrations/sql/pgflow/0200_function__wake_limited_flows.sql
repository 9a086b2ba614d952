-- Tasks of these flows just ended (completed, failed, retried): a flow with a concurrency limit
-- (flows.opt_concurrency, steps.opt_concurrency) has a free slot now, and its waiting messages are
-- already visible, so no new message would wake a worker: this sends the wake-up (pgflow:work, at
-- commit) instead of leaving them to the next poll. When the transaction claims that flow next
-- (_report_and_claim), the claim takes the slot first and wakes the others only if it leaves some.
create function pgflow._wake_limited_flows(p_flow_slugs text[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow_slug text;
begin
  for v_flow_slug in
    select f.flow_slug from pgflow.flows f
     where f.flow_slug = any(p_flow_slugs)
       and (f.opt_concurrency is not null
            or exists (select 1 from pgflow.steps s where s.flow_slug = f.flow_slug and s.opt_concurrency is not null))
  loop
    if v_flow_slug = current_setting('pgflow.claiming_flow', true) then
      perform set_config('pgflow.work_deferred', 'on', true);
    elsif pgflow._notifications_allowed() then
      perform pg_notify('pgflow:work', v_flow_slug);
    end if;
  end loop;
end;
$$;
