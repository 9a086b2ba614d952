-- pgmq.delete(queue_name, msg_id) → boolean and pgmq.delete(queue_name, msg_ids) → the ids actually
-- deleted.
create function pgmq.delete(queue_name text, msg_id bigint) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  deleted bigint;
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  execute format('delete from pgmq.%I where msg_id = $1 returning msg_id', 'q_' || lower(queue_name))
    into deleted using msg_id;
  return deleted is not null;
end
$function$;

create function pgmq.delete(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('delete from pgmq.%I where msg_id = any($1) returning msg_id', 'q_' || lower(queue_name))
    using msg_ids;
end
$function$;
