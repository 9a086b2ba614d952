-- The waiting runs of several keys take the free slots of their keys (per-key concurrency,
-- flows.opt_concurrency_per_key), in a handful of statements however many keys: what a run's end
-- costs at commit (_admit_after_give_back) does not grow with the keys of the batch. The keys' ledger
-- rows are locked in one order (flow, then key: as _admit_runs takes them), then per key its waiting
-- runs in line (priority desc, then concurrency_ticket; one another transaction holds is left for the
-- next slot), as many as the limit leaves (all of them where the flow has no limit any more). The
-- admitted runs get run:admitted and their held messages back. Returns their ids: the caller advances
-- them (_advance_runs).
create function pgflow._admit_waiting_runs(p_flow_slugs text[], p_keys text[])
returns uuid[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_admitted uuid[];
begin
  perform 1
     from pgflow.concurrency_keys k
     join (select distinct g.flow_slug, g.concurrency_key
             from unnest(p_flow_slugs, p_keys) as g(flow_slug, concurrency_key)) g
       on k.flow_slug = g.flow_slug and k.concurrency_key = g.concurrency_key
    order by k.flow_slug, k.concurrency_key
      for update of k;

  with picked as (
    select w.run_id, k.flow_slug, k.concurrency_key
      from pgflow.concurrency_keys k
      join (select distinct g.flow_slug, g.concurrency_key
              from unnest(p_flow_slugs, p_keys) as g(flow_slug, concurrency_key)) g
        on k.flow_slug = g.flow_slug and k.concurrency_key = g.concurrency_key
      join pgflow.flows f on f.flow_slug = k.flow_slug
      cross join lateral (
        select r.run_id
          from pgflow.runs r
         where r.flow_slug = k.flow_slug and r.concurrency_key = k.concurrency_key and r.concurrency_state = 'waiting'
         order by r.priority desc, r.concurrency_ticket
         limit case when f.opt_concurrency_per_key is not null
                    then greatest(0, f.opt_concurrency_per_key - k.in_progress) end
           for update of r skip locked) w
  ),
  admitted as (
    update pgflow.runs r set concurrency_state = 'admitted'
      from picked p
     where r.run_id = p.run_id
    returning r.run_id
  ),
  counted as (
    update pgflow.concurrency_keys k set in_progress = k.in_progress + c.admitted
      from (select p.flow_slug, p.concurrency_key, count(*)::int as admitted from picked p group by 1, 2) c
     where k.flow_slug = c.flow_slug and k.concurrency_key = c.concurrency_key
  )
  select array_agg(a.run_id) into v_admitted from admitted a;

  if v_admitted is null then
    return '{}';
  end if;
  perform pgflow._emit_run_events('run:admitted', array(select r from pgflow.runs r where r.run_id = any(v_admitted)));
  perform pgflow._release_held_messages(v_admitted);
  return v_admitted;
end;
$$;
