-- pgmq.archive(queue_name, msg_id) → boolean and pgmq.archive(queue_name, msg_ids) → the ids
-- actually archived: each message moves from q_<name> to a_<name> in one statement.
create function pgmq.archive(queue_name text, msg_id bigint) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  archived bigint;
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  execute format('with moved as (
  delete from pgmq.%I where msg_id = $1
  returning msg_id, read_ct, enqueued_at, vt, message, headers
)
insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
select msg_id, read_ct, enqueued_at, vt, message, headers from moved
returning msg_id', 'q_' || lower(queue_name), 'a_' || lower(queue_name)) into archived using msg_id;
  return archived is not null;
end
$function$;

create function pgmq.archive(queue_name text, msg_ids bigint[]) returns setof bigint
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
  return query execute format('with moved as (
  delete from pgmq.%I where msg_id = any($1)
  returning msg_id, read_ct, enqueued_at, vt, message, headers
)
insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
select msg_id, read_ct, enqueued_at, vt, message, headers from moved
returning msg_id', 'q_' || lower(queue_name), 'a_' || lower(queue_name)) using msg_ids;
end
$function$;
