-- pgmq.list_queues(): every queue pgmq.meta knows, by name.
create function pgmq.list_queues() returns setof pgmq.queue_record
language sql stable
set search_path to ''
as $function$
select queue_name, is_partitioned, is_unlogged, created_at
  from pgmq.meta
 order by queue_name
$function$;
