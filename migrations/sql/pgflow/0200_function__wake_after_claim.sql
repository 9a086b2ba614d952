-- The end of a claim that ran in the statement that made work ready in its flow (_report_and_claim,
-- _start_and_claim: the steps started there deferred their wake-up to it, see _start_ready_steps):
-- wakes the flow's workers when they have something to claim. A concurrency-limited flow's claim that
-- found another claim of the flow under way took nothing (_read_within_concurrency): the wake-up makes
-- this worker, and the others, claim again. Otherwise a claim that got fewer than it asked for
-- (p_claimed < p_qty) took every message it could start and nobody needs waking; one that got all may
-- have left some.
create function pgflow._wake_after_claim(p_flow_slug text, p_claimed int, p_qty int)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform set_config('pgflow.claiming_flow', '', true);
  if current_setting('pgflow.claim_contended', true) = 'on' then
    perform set_config('pgflow.claim_contended', '', true);
    perform set_config('pgflow.work_deferred', '', true);
    perform pg_notify('pgflow:work', p_flow_slug);
  elsif current_setting('pgflow.work_deferred', true) = 'on' then
    perform set_config('pgflow.work_deferred', '', true);
    if p_claimed >= p_qty and pgflow._notifications_allowed() then
      perform pg_notify('pgflow:work', p_flow_slug);
    end if;
  end if;
end;
$$;
