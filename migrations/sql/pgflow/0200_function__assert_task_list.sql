-- Parses a JSON array of task keys, rejecting malformed entries with PF007.
create function pgflow._assert_task_list(p_list jsonb, p_name text, p_payload_key text)
returns void
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
   limit 1;
  if found then
    raise exception using errcode = 'PF007',
      message = format('Invalid entry in %s: %s.', p_name, v_bad),
      hint = 'Each entry needs "run_id" (a uuid string), "step_slug" (a string) and "task_index" (a number).';
  end if;
end;
$$;
