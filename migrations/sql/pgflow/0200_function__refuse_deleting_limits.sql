-- pgflow.limits keeps its one row: without it, nothing would be limited.
create function pgflow._refuse_deleting_limits()
returns trigger
language plpgsql
set search_path to ''
as $$
begin
  raise exception using errcode = 'PF007',
    message = 'pgflow.limits keeps its one row: it cannot be deleted.',
    hint = 'Change a limit with UPDATE pgflow.limits SET max_map_tasks = ... instead.';
end;
$$;
