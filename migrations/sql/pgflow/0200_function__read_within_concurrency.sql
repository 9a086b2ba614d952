-- Flow and step concurrency limits (flows.opt_concurrency, steps.opt_concurrency): what pgmq.read does
-- (takes visible messages, skipping those other transactions hold; each becomes invisible for p_vt
-- seconds, its read_ct goes up by one), but no more than the limits leave: the flow's and each step's
-- started tasks are counted (not those waiting for a child run: they hold no worker, see
-- _start_child_run), and only that many more messages are taken, per step too (a step at its limit
-- is passed over, so its backlog never hides the others'). Priorities as in _read_by_priority when
-- p_prioritized. The rest stay visible, for the claim that follows a task's end (_wake_limited_flows
-- wakes the workers then). Returns the ids of the messages taken.
--
-- The claims of a flow take turns (a transaction-level advisory lock per flow), so that two never
-- count the same free slot. A claim that reports tasks first (_report_and_claim, which holds row
-- locks of runs by then) only tries the lock: when another claim has it, this one takes nothing and
-- says so in pgflow.claim_contended, and the wake-up it sends makes the worker claim again.
create function pgflow._read_within_concurrency(p_flow_slug text, p_vt int, p_qty int, p_prioritized boolean)
returns bigint[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_lock bigint := hashtextextended('pgflow:concurrency:' || p_flow_slug, 0);
  v_limit int;
  v_free int;
  v_msg_ids bigint[];
  v_steps text[];
  v_budgets int[];
begin
  if p_flow_slug = current_setting('pgflow.claiming_flow', true) then
    if not pg_try_advisory_xact_lock(v_lock) then
      perform set_config('pgflow.claim_contended', 'on', true);
      return null;
    end if;
  else
    perform pg_advisory_xact_lock(v_lock);
  end if;
  select f.opt_concurrency into v_limit from pgflow.flows f where f.flow_slug = p_flow_slug;
  -- Started tasks are few (at most what the workers run): step_tasks_started_idx holds only them.
  v_free := p_qty;
  if v_limit is not null then
    select least(p_qty, v_limit - count(*)) into v_free
      from pgflow.step_tasks t where t.status = 'started' and t.child_run_id is null and t.flow_slug = p_flow_slug;
  end if;
  if v_free <= 0 then
    return null;
  end if;

  -- What each limited step has left (its limit minus its started tasks); a step at its limit is not
  -- read at all, so its backlog never hides the other steps' messages.
  select coalesce(array_agg(s.step_slug), '{}'),
         coalesce(array_agg(greatest(0, s.opt_concurrency
                                        - (select count(*) from pgflow.step_tasks t
                                            where t.status = 'started' and t.child_run_id is null and t.flow_slug = p_flow_slug
                                              and t.step_slug = s.step_slug))), '{}')
    into v_steps, v_budgets
    from pgflow.steps s
   where s.flow_slug = p_flow_slug and s.opt_concurrency is not null;

  -- One read for the steps without a limit, one per limited step for what it has left, each in
  -- claim order; then the first of them all, up to the free slots.
  execute format(
    'with prioritized as materialized (
       select r.run_id::text as run_id, r.priority from pgflow.runs r
        where $4 and r.flow_slug = $3 and r.priority <> 0 and r.status = ''started''),
     candidates as (
       select c.msg_id, c.priority from (
         select m.msg_id, coalesce(p.priority, 0) as priority
           from pgmq.%1$I m
           left join prioritized p on p.run_id = m.message ->> ''run_id''
          where m.vt <= clock_timestamp() and not (m.message ->> ''step_slug'' = any($5))
          order by coalesce(p.priority, 0) desc, m.msg_id
          limit $2
            for update of m skip locked) c
       union all
       select l.msg_id, l.priority
         from unnest($5, $6) as b(step_slug, budget)
         cross join lateral (
           select m.msg_id, coalesce(p.priority, 0) as priority
             from pgmq.%1$I m
             left join prioritized p on p.run_id = m.message ->> ''run_id''
            where b.budget > 0 and m.vt <= clock_timestamp() and m.message ->> ''step_slug'' = b.step_slug
            order by coalesce(p.priority, 0) desc, m.msg_id
            limit b.budget
              for update of m skip locked) l),
     claimed as (
       update pgmq.%1$I q
          set vt = clock_timestamp() + $1, read_ct = q.read_ct + 1
        where q.msg_id = any(array(select c.msg_id from candidates c order by c.priority desc, c.msg_id limit $2))
       returning q.msg_id)
     select array_agg(c.msg_id) from claimed c',
    pgmq.format_table_name(p_flow_slug, 'q'))
  into v_msg_ids
  using make_interval(secs => p_vt), v_free, p_flow_slug, p_prioritized, v_steps, v_budgets;
  return v_msg_ids;
end;
$$;
