-- Per-key concurrency (flows.opt_concurrency_per_key): gives the free slots of one key of a flow to
-- its runs, under a row lock on the key's ledger row (pgflow.concurrency_keys), so that concurrent
-- starts and run ends never admit more than the limit. Runs already waiting go first (priority desc,
-- then the order they began to wait in, runs.concurrency_ticket; one that another transaction holds
-- locked is left for the next slot), then p_new_run_ids (runs just started, still unlimited) in the
-- given order; new runs over the limit wait (concurrency_state 'waiting', event
-- run:concurrency_limited): none of their steps starts (_start_ready_steps). A flow without a limit (cleared) admits every waiting run. Waiting runs
-- admitted here get run:admitted and their held messages back (_release_held_messages). Returns the
-- ids of the runs admitted, waiting ones first: the caller advances them (_advance_runs), once for all
-- the keys it admits.
create function pgflow._admit_runs(p_flow_slug text, p_key text, p_new_run_ids uuid[] default '{}')
returns uuid[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_limit int;
  v_free int;
  v_new uuid[] := coalesce(p_new_run_ids, '{}');
  v_from_waiting uuid[];
  v_admitted_new uuid[];
  v_limited uuid[];
begin
  select f.opt_concurrency_per_key into v_limit from pgflow.flows f where f.flow_slug = p_flow_slug;
  insert into pgflow.concurrency_keys (flow_slug, concurrency_key) values (p_flow_slug, p_key)
  on conflict do nothing;
  -- No limit (cleared): v_free stays null, and every waiting run is admitted.
  select case when v_limit is not null then greatest(0, v_limit - k.in_progress) end into v_free
    from pgflow.concurrency_keys k
   where k.flow_slug = p_flow_slug and k.concurrency_key = p_key
     for update;

  select coalesce(array_agg(w.run_id order by w.priority desc, w.concurrency_ticket), '{}') into v_from_waiting
    from (select r.run_id, r.priority, r.concurrency_ticket
            from pgflow.runs r
           where r.flow_slug = p_flow_slug and r.concurrency_key = p_key and r.concurrency_state = 'waiting'
           order by r.priority desc, r.concurrency_ticket
           limit v_free
             for update skip locked) w;
  v_free := v_free - cardinality(v_from_waiting);
  v_admitted_new := case when v_free is null then v_new else v_new[1:v_free] end;
  v_limited := case when v_free is null then '{}' else v_new[v_free + 1:] end;

  if cardinality(v_from_waiting) + cardinality(v_admitted_new) > 0 then
    update pgflow.runs r set concurrency_state = 'admitted'
     where r.run_id = any(v_from_waiting || v_admitted_new);
    update pgflow.concurrency_keys k
       set in_progress = k.in_progress + cardinality(v_from_waiting) + cardinality(v_admitted_new)
     where k.flow_slug = p_flow_slug and k.concurrency_key = p_key;
  end if;
  if cardinality(v_limited) > 0 then
    -- Tickets in the order of p_new_run_ids (a volatile output column is computed after the sort).
    update pgflow.runs r set concurrency_state = 'waiting', concurrency_ticket = t.ticket
      from (select u.run_id, nextval('pgflow.runs_concurrency_ticket_seq') as ticket
              from unnest(v_limited) with ordinality u(run_id, n)
             order by u.n) t
     where r.run_id = t.run_id;
    perform pgflow._emit_run_events('run:concurrency_limited',
                                    array(select r from pgflow.runs r where r.run_id = any(v_limited)));
  end if;
  if cardinality(v_from_waiting) > 0 then
    perform pgflow._emit_run_events('run:admitted',
                                    array(select r from pgflow.runs r where r.run_id = any(v_from_waiting)));
    perform pgflow._release_held_messages(v_from_waiting);
  end if;
  return v_from_waiting || v_admitted_new;
end;
$$;
