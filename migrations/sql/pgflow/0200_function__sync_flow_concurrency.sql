-- Sets a flow's concurrency limits to its shape's: "options"."concurrency" (flows.opt_concurrency, at
-- most that many of its tasks started at once), "options"."concurrencyPerKey"
-- (flows.opt_concurrency_per_key, runs in progress per runs.concurrency_key) and each step's
-- "options"."concurrency" (steps.opt_concurrency), additions to pgflow's shapes; absent (pgflow's DSL
-- has none, or the flow dropped one) clears it. A value that is not a whole number from 1 to
-- 2147483647 is refused (PF080) and nothing changes. Raising or clearing the per-key limit admits the
-- waiting runs it leaves room for at once. Returns what it changed, in words, for the log.
create function pgflow._sync_flow_concurrency(p_flow_slug text, p_shape jsonb)
returns text[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_bad record;
  v_flow record;
  v_limit int;
  v_per_key int;
  v_changes text[] := '{}';
  v_admitted uuid[];
begin
  -- Every value the shape sets: the flow's two, then each step's.
  select x.what, x.value into v_bad
    from (select 'concurrency' as what, p_shape #> '{options,concurrency}' as value, 0 as n
          union all
          select 'concurrencyPerKey', p_shape #> '{options,concurrencyPerKey}', 0
          union all
          select format('concurrency of step %L', e ->> 'slug'), e #> '{options,concurrency}', x.n
            from jsonb_array_elements(p_shape -> 'steps') with ordinality x(e, n)) x
   where x.value is not null and jsonb_typeof(x.value) <> 'null'
     -- A case, so that a cast is tried only on a JSON number.
     and case when jsonb_typeof(x.value) <> 'number' then true
              else (x.value #>> '{}')::numeric not between 1 and 2147483647
                   or (x.value #>> '{}')::numeric <> trunc((x.value #>> '{}')::numeric) end
   order by x.n
   limit 1;
  if found then
    raise exception using errcode = 'PF080',
      message = format('Invalid %s of flow %L: %s. A concurrency limit is a whole number from 1 to 2147483647.',
                       v_bad.what, p_flow_slug, v_bad.value),
      hint = 'Set it to the number of tasks (or, with a concurrency key, runs per key) that may run at once, e.g. 5; '
             'leave it out for no limit.';
  end if;
  v_limit := (p_shape #>> '{options,concurrency}')::int;
  v_per_key := (p_shape #>> '{options,concurrencyPerKey}')::int;

  select f.opt_concurrency, f.opt_concurrency_per_key into v_flow from pgflow.flows f where f.flow_slug = p_flow_slug;
  if v_flow.opt_concurrency is distinct from v_limit then
    v_changes := v_changes || format('concurrency %s -> %s', coalesce(v_flow.opt_concurrency::text, 'null'),
                                     coalesce(v_limit::text, 'null'));
  end if;
  if v_flow.opt_concurrency_per_key is distinct from v_per_key then
    v_changes := v_changes || format('concurrency_per_key %s -> %s', coalesce(v_flow.opt_concurrency_per_key::text, 'null'),
                                     coalesce(v_per_key::text, 'null'));
  end if;
  if cardinality(v_changes) > 0 then
    update pgflow.flows f set opt_concurrency = v_limit, opt_concurrency_per_key = v_per_key
     where f.flow_slug = p_flow_slug;
  end if;

  with wanted as (
    select s.step_slug, s.opt_concurrency as before, (e #>> '{options,concurrency}')::int as after
      from pgflow.steps s
      left join jsonb_array_elements(p_shape -> 'steps') e on e ->> 'slug' = s.step_slug
     where s.flow_slug = p_flow_slug
  ),
  changed as (
    update pgflow.steps s set opt_concurrency = w.after
      from wanted w
     where s.flow_slug = p_flow_slug and s.step_slug = w.step_slug and w.before is distinct from w.after
    returning s.step_slug, w.before, w.after
  )
  select v_changes || coalesce(array_agg(format('step %s: concurrency %s -> %s', quote_literal(c.step_slug),
                                                coalesce(c.before::text, 'null'), coalesce(c.after::text, 'null'))
                                         order by c.step_slug), '{}')
    into v_changes
    from changed c;

  -- More room per key (or none limited): the waiting runs take it now, key by key in one order.
  if v_flow.opt_concurrency_per_key is not null
     and (v_per_key is null or v_per_key > v_flow.opt_concurrency_per_key) then
    select pgflow._admit_waiting_runs(array_agg(w.flow_slug), array_agg(w.concurrency_key)) into v_admitted
      from (select distinct r.flow_slug, r.concurrency_key from pgflow.runs r
             where r.flow_slug = p_flow_slug and r.concurrency_state = 'waiting') w;
    if coalesce(cardinality(v_admitted), 0) > 0 then
      perform pgflow._advance_runs(v_admitted);
    end if;
  end if;
  return v_changes;
end;
$$;
