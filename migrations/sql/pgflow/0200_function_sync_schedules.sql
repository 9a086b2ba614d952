-- Makes a flow's schedules in the database those of `schedules` (a JSON array of {name, cron,
-- time_zone, input, overlap, catch_up}, what the flow's @FlowSchedule decorators declare): creates
-- the missing ones, updates the changed ones (a new cron or time zone recomputes the next tick; a
-- paused schedule stays paused), and removes the flow's schedules the array does not name, with
-- their ticks. A name another flow's schedule has is refused (PF021), except between versions of a
-- flow (flows sharing an alias), where the newer declaration takes the schedule over. Each change
-- emits its event; returns {created, updated, removed}, arrays of names. Called by the library at
-- boot, in every process that compiles the flow: concurrent calls for one flow wait for each other.
create function pgflow.sync_schedules(flow_slug text, schedules jsonb)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow pgflow.flows;
  v_item jsonb;
  v_old pgflow.schedules;
  v_row pgflow.schedules;
  v_bad text;
  v_names text[];
  v_created text[] := '{}';
  v_updated text[] := '{}';
  v_removed text[] := '{}';
begin
  if jsonb_typeof(sync_schedules.schedules) is distinct from 'array' then
    raise exception using errcode = 'PF022',
      message = format('The schedules of flow %L must be a JSON array, not %s.', sync_schedules.flow_slug,
                       coalesce(jsonb_typeof(sync_schedules.schedules), 'null')),
      hint = 'Pass [{"name": ..., "cron": ...}, ...], or [] to remove every schedule of the flow.';
  end if;
  select * into v_flow from pgflow.flows f where f.flow_slug = sync_schedules.flow_slug for no key update;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist, so its schedules cannot be synced.', sync_schedules.flow_slug),
      hint = 'Compile the flow first (the library does at boot), or check the slug.';
  end if;
  for v_item in select x.value from jsonb_array_elements(sync_schedules.schedules) x loop
    v_bad := pgflow._schedule_problem(v_item);
    if v_bad is not null then
      raise exception using errcode = 'PF022',
        message = format('Invalid schedule of flow %L: %s', sync_schedules.flow_slug, v_bad),
        hint = 'Give each schedule a name (letters, digits, _ . : -), a cron of 5 or 6 fields, overlap ''allow'' '
               'or ''skip'' and catch_up ''none'', ''latest'' or ''all''.';
    end if;
  end loop;
  select array_agg(x.value ->> 'name' order by x.n) into v_names
    from jsonb_array_elements(sync_schedules.schedules) with ordinality x(value, n);
  select d.name into v_bad from unnest(v_names) d(name) group by d.name having count(*) > 1 limit 1;
  if found then
    raise exception using errcode = 'PF022',
      message = format('Flow %L declares schedule %L twice.', sync_schedules.flow_slug, v_bad),
      hint = 'Give each schedule of the flow its own name.';
  end if;

  -- In name order, so that two syncs of different flows lock shared names in one order.
  for v_item in select x.value from jsonb_array_elements(sync_schedules.schedules) x order by x.value ->> 'name' loop
    select * into v_old from pgflow.schedules s where s.schedule_name = v_item ->> 'name' for update;
    if not found then
      insert into pgflow.schedules (schedule_name, flow_slug, cron, time_zone, input, overlap, catch_up)
      values (v_item ->> 'name', sync_schedules.flow_slug, btrim(v_item ->> 'cron'),
              coalesce(v_item ->> 'time_zone', 'UTC'), v_item -> 'input', coalesce(v_item ->> 'overlap', 'allow'),
              coalesce(v_item ->> 'catch_up', 'latest'))
      on conflict (schedule_name) do nothing
      returning * into v_row;
      if not found then
        -- Created meanwhile by a sync of another flow: this one's turn comes with that row locked.
        select * into v_old from pgflow.schedules s where s.schedule_name = v_item ->> 'name' for update;
      else
        v_created := v_created || v_row.schedule_name;
        perform pgflow._emit_schedule_event('schedule:created', v_row);
        continue;
      end if;
    end if;
    if v_old.flow_slug <> sync_schedules.flow_slug
       and not exists (select 1 from pgflow.flows o
                        where o.flow_slug = v_old.flow_slug and o.alias is not null and o.alias = v_flow.alias) then
      raise exception using errcode = 'PF021',
        message = format('Schedule %L belongs to flow %L, so flow %L cannot declare it.', v_old.schedule_name,
                         v_old.flow_slug, sync_schedules.flow_slug),
        hint = format('Give the schedule another name (@FlowSchedule(cron, { name })), or remove schedule %L from '
                      'flow %L first.', v_old.schedule_name, v_old.flow_slug);
    end if;
    if (v_old.flow_slug, v_old.cron, v_old.time_zone, v_old.input, v_old.overlap, v_old.catch_up)
       is distinct from (sync_schedules.flow_slug, btrim(v_item ->> 'cron'), coalesce(v_item ->> 'time_zone', 'UTC'),
                         v_item -> 'input', coalesce(v_item ->> 'overlap', 'allow'),
                         coalesce(v_item ->> 'catch_up', 'latest')) then
      update pgflow.schedules s
         set flow_slug = sync_schedules.flow_slug,
             cron = btrim(v_item ->> 'cron'),
             time_zone = coalesce(v_item ->> 'time_zone', 'UTC'),
             input = v_item -> 'input',
             overlap = coalesce(v_item ->> 'overlap', 'allow'),
             catch_up = coalesce(v_item ->> 'catch_up', 'latest'),
             -- A new cron or time zone: the next tick is computed again, from the moment of the change.
             next_tick_at = case when (s.cron, s.time_zone) is distinct from
                                      (btrim(v_item ->> 'cron'), coalesce(v_item ->> 'time_zone', 'UTC'))
                                 then null else s.next_tick_at end,
             updated_at = now()
       where s.schedule_name = v_old.schedule_name
      returning * into v_row;
      v_updated := v_updated || v_row.schedule_name;
      perform pgflow._emit_schedule_event('schedule:updated', v_row);
    end if;
  end loop;

  for v_row in
    delete from pgflow.schedules s
     where s.flow_slug = sync_schedules.flow_slug and s.schedule_name <> all (coalesce(v_names, '{}'))
    returning *
  loop
    v_removed := v_removed || v_row.schedule_name;
    perform pgflow._emit_schedule_event('schedule:removed', v_row);
  end loop;
  return jsonb_build_object('created', to_jsonb(v_created), 'updated', to_jsonb(v_updated),
                            'removed', to_jsonb(v_removed));
end;
$$;
