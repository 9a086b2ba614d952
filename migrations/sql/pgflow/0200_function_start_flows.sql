-- Starts one run per element of `inputs` (a JSON array), in one transaction and a handful of
-- statements whatever their number: what a batch start costs is about what one start costs, per
-- statement. `run_ids` (optional) gives each run its id, in the same order (a null element, or none,
-- for a time-ordered id of the engine's: _new_run_id). All or nothing: an
-- input a root map step cannot map over, or an id that exists, refuses the whole batch. Returns
-- the runs in the order of the inputs. `idempotency_keys` (optional, one per input, null elements
-- for none): an input whose key a run of the flow already has is not started again; that run is
-- returned in its place (callers tell by its run_id). Atomic under concurrent starts: the unique
-- index on (flow_slug, idempotency_key) makes a second start with the key wait for the first.
-- `trace_contexts` (optional, one per input, null elements for none): the W3C traceparent stored on
-- each new run, which workers continue the run's trace from. `priority` (one for the batch, between
-- -1000000 and 1000000, null for 0): among the flow's ready tasks, those of runs with a higher priority
-- are claimed first (_claim_tasks); a deduplicated input keeps its run's own priority.
-- `rate_limit_keys` (optional, one per input, null elements for none): the key of the flow's rate
-- limit each run's tasks count against. `concurrency_keys` (optional, one per input, null elements for
-- none): the key of the flow's per-key concurrency limit (flows.opt_concurrency_per_key) each run counts
-- against; a run over its key's limit waits (_admit_runs) and starts when a slot frees.
create function pgflow.start_flows(flow_slug text, inputs jsonb, run_ids uuid[] default null,
                                   idempotency_keys text[] default null, trace_contexts text[] default null,
                                   priority int default 0, rate_limit_keys text[] default null,
                                   concurrency_keys text[] default null)
returns setof pgflow.runs
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_count int;
  v_root_map text;
  v_bad record;
  v_ids uuid[];
  v_runs pgflow.runs[];
  v_limits pgflow.limits := pgflow._limits();
  v_existing uuid;
  v_key record;
begin
  if jsonb_typeof(start_flows.inputs) is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('inputs must be a JSON array (one element per run), not %s.',
                       coalesce(jsonb_typeof(start_flows.inputs), 'null')),
      hint = 'Pass ["input of run 1", "input of run 2", ...].';
  end if;
  v_count := jsonb_array_length(start_flows.inputs);
  if start_flows.run_ids is not null and cardinality(start_flows.run_ids) is distinct from v_count then
    raise exception using errcode = 'PF007',
      message = format('start_flows got %s inputs but %s run ids.', v_count, coalesce(cardinality(start_flows.run_ids), 0)),
      hint = 'Pass one run id per input (a null element lets the engine choose it), or run_ids => null.';
  end if;
  if start_flows.idempotency_keys is not null then
    if cardinality(start_flows.idempotency_keys) is distinct from v_count then
      raise exception using errcode = 'PF007',
        message = format('start_flows got %s inputs but %s idempotency keys.', v_count,
                         coalesce(cardinality(start_flows.idempotency_keys), 0)),
        hint = 'Pass one key per input (a null element for none), or idempotency_keys => null.';
    end if;
    select k.n, k.key into v_bad
      from unnest(start_flows.idempotency_keys) with ordinality as k(key, n)
     where length(k.key) not between 1 and 255
     order by k.n limit 1;
    if found then
      raise exception using errcode = 'PF007',
        message = format('Idempotency key %L has %s characters; a key has 1 to 255.',
                         left(v_bad.key, 40) || case when length(v_bad.key) > 40 then '...' else '' end,
                         length(v_bad.key))
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Use a shorter key, e.g. a hash of what makes the start unique.';
    end if;
  end if;
  if start_flows.priority not between -1000000 and 1000000 then
    raise exception using errcode = 'PF060',
      message = format('Run priority %s is out of range: a priority is between -1000000 and 1000000.',
                       start_flows.priority),
      hint = 'Pass a smaller priority (higher runs first; 0, the default, for ordinary runs).';
  end if;
  if start_flows.trace_contexts is not null then
    if cardinality(start_flows.trace_contexts) is distinct from v_count then
      raise exception using errcode = 'PF007',
        message = format('start_flows got %s inputs but %s trace contexts.', v_count,
                         coalesce(cardinality(start_flows.trace_contexts), 0)),
        hint = 'Pass one W3C traceparent per input (a null element for none), or trace_contexts => null.';
    end if;
    select t.n, t.value into v_bad
      from unnest(start_flows.trace_contexts) with ordinality as t(value, n)
     where t.value !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
     order by t.n limit 1;
    if found then
      raise exception using errcode = 'PF007',
        message = format('Trace context %L is not a W3C traceparent.', left(v_bad.value, 80))
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Pass a traceparent such as 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01, or null.';
    end if;
  end if;
  if start_flows.rate_limit_keys is not null then
    perform pgflow._check_rate_limit_keys(start_flows.rate_limit_keys, v_count);
  end if;
  if start_flows.concurrency_keys is not null then
    perform pgflow._check_concurrency_keys(start_flows.concurrency_keys, v_count);
  end if;
  -- The flow with this slug, or else the newest flow under this alias (PF002 when there is neither).
  start_flows.flow_slug := pgflow._resolve_flow_slug(start_flows.flow_slug);
  select s.step_slug into v_root_map from pgflow.steps s
   where s.flow_slug = start_flows.flow_slug and s.step_type = 'map' and s.deps_count = 0
   order by s.step_index limit 1;
  if v_root_map is not null then
    select x.n, jsonb_typeof(x.value) as type into v_bad
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
     where jsonb_typeof(x.value) <> 'array'
     order by x.n limit 1;
    if found then
      raise exception using errcode = 'PF006',
        message = format('Flow %L maps over its input in step %L, so its input must be a JSON array, not %s.',
                         start_flows.flow_slug, v_root_map, v_bad.type)
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Pass a JSON array as the input, e.g. ["a", "b"].';
    end if;
    select x.n, jsonb_array_length(x.value) as length into v_bad
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
     where jsonb_array_length(x.value) > v_limits.max_map_tasks
     order by x.n limit 1;
    if found then
      raise exception using errcode = 'PF012',
        message = format('Flow %L maps over its input in step %L, and the input has %s elements: more than the '
                         '%s tasks a map step may have (pgflow.limits.max_map_tasks).',
                         start_flows.flow_slug, v_root_map, v_bad.length, v_limits.max_map_tasks)
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Split the input over several runs, or raise pgflow.limits.max_map_tasks.';
    end if;
  end if;
  select x.n, pg_column_size(x.value) as bytes into v_bad
    from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
   where pg_column_size(x.value) > v_limits.max_input_bytes
   order by x.n limit 1;
  if found then
    raise exception using errcode = 'PF011',
      message = format('The input of a run of flow %L is %s bytes: more than the %s bytes a run input may have '
                       '(pgflow.limits.max_input_bytes).', start_flows.flow_slug, v_bad.bytes, v_limits.max_input_bytes)
                || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
      hint = 'Pass a reference to large data (a key, a URL) instead of the data, or raise pgflow.limits.max_input_bytes.';
  end if;
  if v_count = 0 then
    return;
  end if;

  select array_agg(coalesce(start_flows.run_ids[n], pgflow._new_run_id()) order by n) into v_ids
    from generate_series(1, v_count) n;
  with inserted as (
    insert into pgflow.runs (run_id, flow_slug, input, remaining_steps, idempotency_key, trace_context, priority,
                             rate_limit_key, concurrency_key)
    select i.run_id, start_flows.flow_slug, x.value,
           (select count(*) from pgflow.steps s where s.flow_slug = start_flows.flow_slug), i.key,
           start_flows.trace_contexts[x.n::int], coalesce(start_flows.priority, 0),
           start_flows.rate_limit_keys[x.n::int], start_flows.concurrency_keys[x.n::int]
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
      join unnest(v_ids, coalesce(start_flows.idempotency_keys, '{}')) with ordinality as i(run_id, key, n)
        on i.n = x.n
     order by x.n
    on conflict do nothing
    returning *
  )
  select array_agg(r) into v_runs from inserted r;
  if coalesce(cardinality(v_runs), 0) < v_count then
    -- Each input not inserted is either deduplicated (its key names a run of the flow: committed
    -- now, as this statement sees the start that held it up) or refused (its id existed, or came twice).
    select array_agg(coalesce(r.run_id, existing.run_id) order by i.n),
           (array_agg(i.run_id order by i.n) filter (where r.run_id is null and existing.run_id is null))[1]
      into v_ids, v_existing
      from (select u.run_id, u.key, u.n, row_number() over (partition by u.run_id order by u.n) as k
              from unnest(v_ids, coalesce(start_flows.idempotency_keys, '{}')) with ordinality as u(run_id, key, n)) i
      left join unnest(v_runs) r on r.run_id = i.run_id and i.k = 1
      left join pgflow.runs existing
        on r.run_id is null and i.key is not null
       and existing.flow_slug = start_flows.flow_slug and existing.idempotency_key = i.key;
    if v_existing is not null then
      -- The detail is the run id alone, for callers that need it (never parse the message).
      raise exception using errcode = 'PF008',
        message = format('Run %s already exists.', v_existing),
        detail = v_existing::text,
        hint = 'Pass a new run_id, or null to let the engine choose one.';
    end if;
    if v_runs is null then
      return query
        select r.* from unnest(v_ids) with ordinality as i(run_id, n)
          cross join lateral (select * from pgflow.runs x where x.run_id = i.run_id) r
         order by i.n;
      return;
    end if;
  end if;

  insert into pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks)
  select s.flow_slug, r.run_id, s.step_slug, s.deps_count,
         case when s.step_type = 'single' then 1
              when s.deps_count = 0 and jsonb_typeof(r.input) = 'array' then jsonb_array_length(r.input) end
    from unnest(v_runs) r
    cross join pgflow.steps s
   where s.flow_slug = start_flows.flow_slug;

  perform pgflow._emit_run_events('run:started', v_runs);
  -- A per-key concurrency limit: each key's new runs take its free slots, or wait (_admit_runs), key by
  -- key in one order. The waiting runs' steps do not start below (_start_ready_steps).
  if start_flows.concurrency_keys is not null
     and exists (select 1 from pgflow.flows f
                  where f.flow_slug = start_flows.flow_slug and f.opt_concurrency_per_key is not null) then
    for v_key in
      select r.concurrency_key, array_agg(r.run_id order by r.ordinality) as run_ids
        from unnest(v_runs) with ordinality r
       where r.concurrency_key is not null
       group by 1
       order by 1
    loop
      perform pgflow._admit_runs(start_flows.flow_slug, v_key.concurrency_key, v_key.run_ids);
    end loop;
  end if;
  perform pgflow._advance_runs(array(select r.run_id from unnest(v_runs) r));
  return query
    select r.* from unnest(v_ids) with ordinality as i(run_id, n)
      cross join lateral (select * from pgflow.runs x where x.run_id = i.run_id) r
     order by i.n;
end;
$$;
