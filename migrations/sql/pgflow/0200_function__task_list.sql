-- A report's JSON array of task results, [{"run_id": .., "step_slug": .., "task_index": ..,
-- <p_payload_key>: .., "attempt": ..}, ...], as arrays in entry order (empty for an empty list). The
-- attempt is optional (null when absent): given, the result counts only for that attempt of the
-- task. A list that is not an array, or an entry without its key, is refused with PF007.
create function pgflow._task_list(
  p_list jsonb, p_name text, p_payload_key text,
  out run_ids uuid[], out step_slugs text[], out task_indexes int[], out payloads jsonb[], out attempts int[]
)
returns record
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_bad jsonb;
begin
  if jsonb_typeof(p_list) is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('%s must be a JSON array, not %s.', p_name, coalesce(jsonb_typeof(p_list), 'null')),
      hint = format('Pass [{"run_id": ..., "step_slug": ..., "task_index": ..., "%s": ...}, ...].', p_payload_key);
  end if;
  select e into v_bad from jsonb_array_elements(p_list) e
   where jsonb_typeof(e) <> 'object'
      or jsonb_typeof(e -> 'run_id') is distinct from 'string'
      or jsonb_typeof(e -> 'step_slug') is distinct from 'string'
      or jsonb_typeof(e -> 'task_index') is distinct from 'number'
      or coalesce(jsonb_typeof(e -> 'attempt'), 'null') not in ('number', 'null')
   limit 1;
  if found then
    raise exception using errcode = 'PF007',
      message = format('Invalid entry in %s: %s.', p_name, v_bad),
      hint = 'Each entry needs "run_id" (a uuid string), "step_slug" (a string) and "task_index" (a number); '
             '"attempt", when given, is a number.';
  end if;
  select coalesce(array_agg((x.e ->> 'run_id')::uuid order by x.n), '{}'),
         coalesce(array_agg(x.e ->> 'step_slug' order by x.n), '{}'),
         coalesce(array_agg((x.e ->> 'task_index')::int order by x.n), '{}'),
         coalesce(array_agg(x.e -> p_payload_key order by x.n), '{}'),
         coalesce(array_agg((x.e ->> 'attempt')::int order by x.n), '{}')
    into run_ids, step_slugs, task_indexes, payloads, attempts
    from jsonb_array_elements(p_list) with ordinality x(e, n);
end;
$$;
