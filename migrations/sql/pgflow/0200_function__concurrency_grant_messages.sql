-- pgflow's start_tasks for a flow with a concurrency limit (flows.opt_concurrency, steps.opt_concurrency):
-- of messages a worker read itself (pgmq.read_with_poll), returns those the limits leave room for, in
-- message order; the others are handed back (visible at once) for a later read. Takes the flow's
-- claim turn as _read_within_concurrency does, so the two kinds of claim share one count. A message
-- whose task is not queued passes through uncounted: start_tasks skips it as before.
create function pgflow._concurrency_grant_messages(p_flow_slug text, p_msg_ids bigint[])
returns bigint[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_limit int;
  v_free int;
  v_granted bigint[];
  v_returned bigint[];
begin
  perform pg_advisory_xact_lock(hashtextextended('pgflow:concurrency:' || p_flow_slug, 0));
  select f.opt_concurrency into v_limit from pgflow.flows f where f.flow_slug = p_flow_slug;
  if v_limit is not null then
    select v_limit - count(*) into v_free
      from pgflow.step_tasks t where t.status = 'started' and t.child_run_id is null and t.flow_slug = p_flow_slug;
  end if;
  with candidates as (
    select t.message_id, t.step_slug, t.status = 'queued' as counted,
           row_number() over (partition by t.step_slug, t.status = 'queued' order by t.message_id) as n
      from pgflow.step_tasks t
     where t.flow_slug = p_flow_slug and t.message_id = any(p_msg_ids)
  ),
  within_steps as (
    select c.message_id, c.counted
      from candidates c
      left join pgflow.steps s on s.flow_slug = p_flow_slug and s.step_slug = c.step_slug
     where not c.counted or s.opt_concurrency is null
        or c.n <= s.opt_concurrency - (select count(*) from pgflow.step_tasks t
                                        where t.status = 'started' and t.child_run_id is null and t.flow_slug = p_flow_slug
                                          and t.step_slug = c.step_slug)
  ),
  granted as (
    select w.message_id from within_steps w where not w.counted
    union all
    select x.message_id
      from (select w.message_id, row_number() over (order by w.message_id) as n
              from within_steps w where w.counted) x
     where v_free is null or x.n <= v_free
  )
  select array_agg(g.message_id) into v_granted from granted g;
  select array_agg(m.msg_id) into v_returned
    from unnest(p_msg_ids) m(msg_id)
   where not m.msg_id = any(coalesce(v_granted, '{}'))
     and exists (select 1 from pgflow.step_tasks t
                  where t.flow_slug = p_flow_slug and t.message_id = m.msg_id and t.status = 'queued');
  if v_returned is not null then
    execute format('update pgmq.%I q set vt = clock_timestamp() where q.msg_id = any($1)',
                   pgmq.format_table_name(p_flow_slug, 'q'))
      using v_returned;
  end if;
  return coalesce(v_granted, '{}');
end;
$$;
