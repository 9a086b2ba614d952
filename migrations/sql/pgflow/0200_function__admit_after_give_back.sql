-- Deferred trigger (runs_admit_after_give_back, at the commit of a transaction that ended admitted
-- runs): counts the slots given back (_give_back_concurrency_slot) in the ledger and admits the next
-- waiting runs of their keys, key by key in one order (as start_flows takes them, so that two
-- transactions never wait for each other's keys), then advances all the admitted runs at once. The
-- first such trigger of the transaction does the work for all; the others find nothing left.
create function pgflow._admit_after_give_back()
returns trigger
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_slots text := nullif(current_setting('pgflow.given_back_slots', true), '');
  v_flow_slugs text[];
  v_keys text[];
  v_admitted uuid[];
begin
  if v_slots is null then
    return null;
  end if;
  perform set_config('pgflow.given_back_slots', '', true);
  -- The keys' ledger rows, locked in one order (_admit_waiting_runs takes them so too), then counted.
  with given as (
    select s ->> 0 as flow_slug, s ->> 1 as concurrency_key, count(*)::int as given_back
      from jsonb_array_elements(v_slots::jsonb) s
     group by 1, 2
  ),
  locked as (
    select k.flow_slug, k.concurrency_key, g.given_back
      from pgflow.concurrency_keys k
      join given g on g.flow_slug = k.flow_slug and g.concurrency_key = k.concurrency_key
     order by k.flow_slug, k.concurrency_key
       for update of k
  ),
  counted as (
    update pgflow.concurrency_keys k set in_progress = greatest(0, k.in_progress - l.given_back)
      from locked l
     where k.flow_slug = l.flow_slug and k.concurrency_key = l.concurrency_key
    returning k.flow_slug, k.concurrency_key
  )
  select array_agg(c.flow_slug), array_agg(c.concurrency_key) into v_flow_slugs, v_keys from counted c;
  if v_flow_slugs is null then
    return null;
  end if;
  v_admitted := pgflow._admit_waiting_runs(v_flow_slugs, v_keys);
  if cardinality(v_admitted) > 0 then
    perform pgflow._advance_runs(v_admitted);
  end if;
  return null;
end;
$$;
