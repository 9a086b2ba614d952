-- pgmq.set_vt(queue_name, msg_id, vt): the message becomes visible vt seconds from now (0: at
-- once); returns it with its new vt, or nothing when there is no such message.
create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer) returns setof pgmq.message_record
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
  return query execute format('update pgmq.%I
   set vt = clock_timestamp() + make_interval(secs => $2)
 where msg_id = $1
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name)) using msg_id, vt;
end
$function$;
