-- The rate limit of a flow (flows.opt_rate_limit starts per window of opt_rate_period seconds,
-- windows aligned to the epoch), applied to messages the claim has just read: returns those that
-- may start now. Per key (runs.rate_limit_key, '' for none) it grants up to what the current window
-- has left, oldest message first, counting the grant in pgflow.rate_limit_windows under a row lock,
-- so concurrent claims never grant more than the limit in all. The others are held back: invisible
-- until the next window starts (not started, no attempt counted), with a task:rate_limited event
-- each; so are the other visible messages of a key whose window is spent (without an event: no
-- claim read them). A message whose task is not queued (gone, over, or already started) is passed through
-- uncounted: the claim archives or skips it as before.
create function pgflow._rate_limit_messages(p_flow_slug text, p_msg_ids bigint[], p_limit int, p_period int)
returns bigint[]
language plpgsql
volatile
set jit to off
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set search_path to ''
as $$
declare
  -- The window of the transaction's time: the time _start_tasks records as the tasks' started_at, so
  -- that the starts of any window, counted from step_tasks, are the ledger's.
  v_window timestamptz := to_timestamp(floor(extract(epoch from now()) / p_period) * p_period);
  v_next timestamptz := v_window + make_interval(secs => p_period);
  v_group record;
  v_used int;
  v_grant int;
  v_granted bigint[];
  v_held bigint[] := '{}';
  v_spent text[] := '{}';
begin
  select array_agg(m.msg_id) into v_granted
    from unnest(p_msg_ids) m(msg_id)
   where not exists (select 1 from pgflow.step_tasks t
                      where t.flow_slug = p_flow_slug and t.message_id = m.msg_id and t.status = 'queued');
  v_granted := coalesce(v_granted, '{}');
  -- Keys in one order in every claim, so that two claims never wait for each other's windows.
  for v_group in
    select coalesce(r.rate_limit_key, '') as key, array_agg(t.message_id order by t.message_id) as msg_ids
      from pgflow.step_tasks t
      join pgflow.runs r on r.run_id = t.run_id
     where t.flow_slug = p_flow_slug and t.message_id = any(p_msg_ids) and t.status = 'queued'
     group by 1
     order by 1
  loop
    insert into pgflow.rate_limit_windows (flow_slug, key, window_start, used)
    values (p_flow_slug, v_group.key, v_window, 0)
    on conflict do nothing;
    if found then
      -- The key's first claim in this window: its old windows are history. Those of the last minute
      -- (at least one period) stay, for a claim whose transaction began in one of them and has not
      -- reached the ledger yet: recreated empty, its window would grant its limit a second time.
      delete from pgflow.rate_limit_windows w
       where w.flow_slug = p_flow_slug and w.key = v_group.key
         and w.window_start < v_window - make_interval(secs => greatest(p_period, 60));
    end if;
    select w.used into v_used from pgflow.rate_limit_windows w
     where w.flow_slug = p_flow_slug and w.key = v_group.key and w.window_start = v_window
       for update;
    v_grant := greatest(0, least(p_limit - v_used, cardinality(v_group.msg_ids)));
    if v_grant > 0 then
      update pgflow.rate_limit_windows w set used = w.used + v_grant
       where w.flow_slug = p_flow_slug and w.key = v_group.key and w.window_start = v_window;
    end if;
    v_granted := v_granted || v_group.msg_ids[1:v_grant];
    v_held := v_held || v_group.msg_ids[v_grant + 1:];
    if v_grant < cardinality(v_group.msg_ids) then
      v_spent := v_spent || v_group.key;
    end if;
  end loop;
  if cardinality(v_held) > 0 then
    -- Both queue layers keep a queue's messages in the same table (as set_vt_batch relies on).
    execute format('update pgmq.%I q set vt = $2 where q.msg_id = any($1)',
                   pgmq.format_table_name(p_flow_slug, 'q'))
      using v_held, v_next;
    -- The keys whose window is spent: their other visible messages wait for the next window too, in
    -- one statement, so that a backlog far beyond the limit is not read again claim after claim in
    -- this window (only the messages no other claim holds; those of keys with budget left stay).
    execute format('update pgmq.%1$I q set vt = $2
                      from (select m.msg_id from pgmq.%1$I m
                              join pgflow.step_tasks t on t.message_id = m.msg_id and t.flow_slug = $3
                              join pgflow.runs r on r.run_id = t.run_id
                             where m.vt <= clock_timestamp() and t.status = ''queued''
                               and coalesce(r.rate_limit_key, '''') = any($1)
                               for update of m skip locked) h
                     where q.msg_id = h.msg_id',
                   pgmq.format_table_name(p_flow_slug, 'q'))
      using v_spent, v_next, p_flow_slug;
    perform pgflow._emit_events(
              array_agg(t.run_id),
              array_agg(jsonb_build_object('event_type', 'task:rate_limited', 'flow_slug', p_flow_slug,
                                           'step_slug', t.step_slug, 'task_index', t.task_index,
                                           'status', 'queued', 'visible_at', v_next)))
       from pgflow.step_tasks t
      where t.flow_slug = p_flow_slug and t.message_id = any(v_held)
     having count(*) > 0;
  end if;
  return case when cardinality(v_granted) > 0 then v_granted end;
end;
$$;
