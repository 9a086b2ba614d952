-- pgmq.metrics(queue_name): counts and ages of one queue, as of now() (the transaction's start,
-- as in pgmq). total_messages is the msg_id sequence's last value: every message ever sent, 0
-- before the first.
create function pgmq.metrics(queue_name text) returns pgmq.metrics_result
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  result pgmq.metrics_result;
begin
  execute format('select $1::text,
       count(*),
       extract(epoch from now() - max(enqueued_at))::integer,
       extract(epoch from now() - min(enqueued_at))::integer,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence($2, ''msg_id'')::regclass), 0),
       now(),
       count(*) filter (where vt <= now())
  from pgmq.%I', queue_table) into result using queue_name, format('pgmq.%I', queue_table);
  return result;
end
$function$;
