-- pgmq.read(queue_name, vt, qty, conditional): takes up to qty visible messages, lowest msg_id
-- first, skipping rows other transactions have locked; each becomes invisible for vt seconds and
-- its read_ct goes up by one. The rows returned show the new values.
create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}') returns setof pgmq.message_record
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
  if conditional is null or conditional = '{}'::jsonb then
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name))
      using make_interval(secs => vt), qty;
  else
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp() and message @> $3
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name))
      using make_interval(secs => vt), qty, conditional;
  end if;
end
$function$;
