-- pgmq.pop(queue_name): deletes and returns the first visible message (read_ct unchanged).
create function pgmq.pop(queue_name text) returns setof pgmq.message_record
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
  return query execute format('delete from pgmq.%1$I
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit 1
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name));
end
$function$;
