-- schedules: the cron schedules of flows (@FlowSchedule), one row per schedule name. An addition to
-- pgflow's tables. The library creates, changes and removes a flow's rows at boot (sync_schedules);
-- its workers compute the ticks (SQL cannot parse cron) and fire them through fire_schedule, which
-- moves next_tick_at forward with a compare-and-set. next_tick_at is null for a schedule whose next
-- tick is not computed yet (new, its cron or time zone changed, or just resumed): the first worker
-- that sees it sets it to the first tick after that moment, so such a change never fires ticks of the past.
create table pgflow.schedules (
  schedule_name text primary key,
  -- A flow's schedules go with it (delete_flow_and_data, a recompilation): the boot after re-creates them.
  flow_slug text not null references pgflow.flows (flow_slug) on delete cascade,
  cron text not null,
  time_zone text not null default 'UTC',
  -- The input of every run the schedule starts; null: { "scheduledAt": <the tick, ISO 8601 UTC> }.
  input jsonb,
  overlap text not null default 'allow',
  catch_up text not null default 'latest',
  paused_at timestamptz,
  next_tick_at timestamptz,
  last_tick_at timestamptz,
  -- The run of the schedule's latest started tick (no foreign key: pruning runs keeps schedules).
  last_run_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint schedules_name_is_valid check (schedule_name ~ '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$'),
  -- 5 fields (minute precision) or 6 (seconds first); the library parses them, this only refuses the rest.
  constraint schedules_cron_has_5_or_6_fields
    check (cardinality(regexp_split_to_array(btrim(cron), '\s+')) in (5, 6) and length(cron) <= 200),
  constraint schedules_time_zone_is_named check (length(time_zone) between 1 and 64),
  constraint schedules_overlap_is_valid check (overlap in ('allow', 'skip')),
  constraint schedules_catch_up_is_valid check (catch_up in ('none', 'latest', 'all')),
  constraint schedules_last_tick_before_next check (last_tick_at is null or next_tick_at is null
                                                   or last_tick_at < next_tick_at)
);

create index schedules_flow_slug_idx on pgflow.schedules (flow_slug);
