-- What is wrong with one schedule declaration of sync_schedules (a JSON object), or null when
-- nothing is: the table's CHECK constraints, said in words that name the value and the schedule.
create function pgflow._schedule_problem(p_item jsonb)
returns text
language sql
immutable
set search_path to ''
as $$
  select case
    when jsonb_typeof(p_item) is distinct from 'object' then format('%s is not an object.', p_item)
    when jsonb_typeof(p_item -> 'name') is distinct from 'string'
         or (p_item ->> 'name') !~ '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$'
      then format('schedule name %s is not 1 to 128 letters, digits, _ . : or - (starting with a letter, digit or _).',
                  coalesce((p_item -> 'name')::text, 'null'))
    when jsonb_typeof(p_item -> 'cron') is distinct from 'string'
         or cardinality(regexp_split_to_array(btrim(p_item ->> 'cron'), '\s+')) not in (5, 6)
         or length(p_item ->> 'cron') > 200
      then format('schedule %L has cron %s, which is not 5 or 6 fields.', p_item ->> 'name',
                  coalesce((p_item -> 'cron')::text, 'null'))
    when p_item ? 'time_zone' and (jsonb_typeof(p_item -> 'time_zone') is distinct from 'string'
                                    or length(p_item ->> 'time_zone') not between 1 and 64)
      then format('schedule %L has time zone %s, which is not a time zone name.', p_item ->> 'name',
                  p_item -> 'time_zone')
    when p_item ? 'overlap' and (p_item ->> 'overlap') is distinct from 'allow'
         and (p_item ->> 'overlap') is distinct from 'skip'
      then format('schedule %L has overlap %s; it is ''allow'' or ''skip''.', p_item ->> 'name', p_item -> 'overlap')
    when p_item ? 'catch_up' and coalesce(p_item ->> 'catch_up', '') not in ('none', 'latest', 'all')
      then format('schedule %L has catch_up %s; it is ''none'', ''latest'' or ''all''.', p_item ->> 'name',
                  p_item -> 'catch_up')
  end
$$;
