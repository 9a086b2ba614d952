-- pgmq.read_with_poll(queue_name, vt, qty, max_poll_seconds, poll_interval_ms, conditional): read,
-- and while nothing is visible, sleep poll_interval_ms (pg_sleep: no CPU) and read again, until
-- something is read or max_poll_seconds have passed. It reads at least once and once more at the
-- deadline, and never sleeps past it. Each re-read is a new statement, so in READ COMMITTED it sees
-- messages committed during the wait.
create function pgmq.read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer default 5, poll_interval_ms integer default 100, conditional jsonb default '{}') returns setof pgmq.message_record
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  stop_at timestamptz := clock_timestamp() + make_interval(secs => max_poll_seconds);
  -- A zero or negative interval would spin; one millisecond is the shortest pause.
  pause double precision := greatest(poll_interval_ms, 1) / 1000.0;
begin
  loop
    if conditional is null or conditional = '{}'::jsonb then
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', queue_table)
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
returning msg_id, read_ct, enqueued_at, vt, message, headers', queue_table)
      using make_interval(secs => vt), qty, conditional;
  end if;
    if found or clock_timestamp() >= stop_at then
      return;
    end if;
    perform pg_sleep(least(pause, extract(epoch from stop_at - clock_timestamp())::double precision));
  end loop;
end
$function$;
