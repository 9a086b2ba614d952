-- Makes a flow's signal steps those of its shape: a step's "options"."signal" (the signal name it
-- waits for) and "options"."signalTimeout" (seconds), additions to pgflow's shapes. A step without
-- them is an ordinary step. Refused (PF007, nothing changed): a name that is not a slug, a map step
-- waiting for a signal, two steps of the flow waiting for one name, a timeout that is not a positive
-- whole number of seconds or without a signal. A step that becomes a signal step applies to the
-- steps that start from then on. Returns what it changed, in words, for the log.
create function pgflow._sync_step_signals(p_flow_slug text, p_shape jsonb)
returns text[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_wanted record;
  v_changes text[] := '{}';
begin
  for v_wanted in
    select e ->> 'slug' as step_slug, coalesce(e ->> 'stepType', 'single') as step_type,
           e #> '{options,signal}' as signal, e #> '{options,signalTimeout}' as signal_timeout,
           s.signal_name as signal_before, s.signal_timeout as timeout_before
      from jsonb_array_elements(p_shape -> 'steps') e
      join pgflow.steps s on s.flow_slug = p_flow_slug and s.step_slug = e ->> 'slug'
  loop
    if v_wanted.signal is not null and (jsonb_typeof(v_wanted.signal) <> 'string'
                                         or not pgflow.is_valid_slug(v_wanted.signal #>> '{}')) then
      raise exception using errcode = 'PF007',
        message = format('Invalid signal name %s of step %L of flow %L: a signal name follows the slug rules.',
                         v_wanted.signal, v_wanted.step_slug, p_flow_slug),
        hint = 'Name the signal like a step: a letter or underscore, then letters, digits and underscores, e.g. "approval".';
    end if;
    if v_wanted.signal is not null and v_wanted.step_type <> 'single' then
      raise exception using errcode = 'PF007',
        message = format('Step %L of flow %L is a map step and waits for signal %s: a signal step is a single step.',
                         v_wanted.step_slug, p_flow_slug, v_wanted.signal),
        hint = 'Wait for the signal in a single step, and map over its output in a step that depends on it.';
    end if;
    if v_wanted.signal_timeout is not null
       and (v_wanted.signal is null or jsonb_typeof(v_wanted.signal_timeout) <> 'number'
            or (v_wanted.signal_timeout #>> '{}')::numeric <> trunc((v_wanted.signal_timeout #>> '{}')::numeric)
            or (v_wanted.signal_timeout #>> '{}')::numeric not between 1 and 31536000) then
      raise exception using errcode = 'PF007',
        message = format('Invalid signal timeout %s of step %L of flow %L.', v_wanted.signal_timeout,
                         v_wanted.step_slug, p_flow_slug),
        hint = 'A signal timeout is a whole number of seconds from 1 to 31536000 (a year), on a step with a signal.';
    end if;
    if (v_wanted.signal #>> '{}', (v_wanted.signal_timeout #>> '{}')::int)
       is distinct from (v_wanted.signal_before, v_wanted.timeout_before) then
      v_changes := v_changes || format('step %s: signal %s -> %s', quote_literal(v_wanted.step_slug),
        coalesce(quote_literal(v_wanted.signal_before) || coalesce(format(' (timeout %s s)', v_wanted.timeout_before), ''), 'none'),
        coalesce(quote_literal(v_wanted.signal #>> '{}')
                 || coalesce(format(' (timeout %s s)', v_wanted.signal_timeout #>> '{}'), ''), 'none'));
    end if;
  end loop;
  if cardinality(v_changes) = 0 then
    return v_changes;
  end if;

  if exists (select 1 from jsonb_array_elements(p_shape -> 'steps') e
              where e #>> '{options,signal}' is not null
              group by e #>> '{options,signal}' having count(*) > 1) then
    raise exception using errcode = 'PF007',
      message = format('Two steps of flow %L wait for the same signal (%s): a signal name says which step it is for.',
                       p_flow_slug,
                       (select string_agg(format('%L by %s', g.name, g.steps), ', ')
                          from (select e #>> '{options,signal}' as name, string_agg(quote_literal(e ->> 'slug'), ' and ') as steps
                                  from jsonb_array_elements(p_shape -> 'steps') e
                                 where e #>> '{options,signal}' is not null
                                 group by 1 having count(*) > 1) g)),
      hint = 'Give each signal step its own signal name.';
  end if;
  -- Cleared first, then set: the unique index on (flow_slug, signal_name) holds between any two
  -- statements, also when two steps swap their names.
  update pgflow.steps s set signal_name = null, signal_timeout = null
   where s.flow_slug = p_flow_slug and s.signal_name is not null;
  update pgflow.steps s
     set signal_name = e #>> '{options,signal}', signal_timeout = (e #>> '{options,signalTimeout}')::int
    from jsonb_array_elements(p_shape -> 'steps') e
   where s.flow_slug = p_flow_slug and s.step_slug = e ->> 'slug' and e #>> '{options,signal}' is not null;
  return v_changes;
end;
$$;
