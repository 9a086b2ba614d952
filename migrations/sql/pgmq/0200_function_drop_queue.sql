-- pgmq.drop_queue(queue_name): drops the queue, its archive and its pgmq.meta row and returns true;
-- for a queue pgmq.meta does not know, returns false with pgmq's NOTICE.
create function pgmq.drop_queue(queue_name text) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  archive_table text := pgmq.format_table_name(queue_name, 'a');
begin
  delete from pgmq.meta as m where m.queue_name = drop_queue.queue_name;
  if not found then
    raise notice 'pgmq queue `%` does not exist', queue_name;
    return false;
  end if;
  execute format('drop table if exists pgmq.%I', queue_table);
  execute format('drop table if exists pgmq.%I', archive_table);
  return true;
end
$function$;

-- pgmq 1.5's deprecated overload, which pgmq's own examples and older clients still call: warns,
-- drops the queue with drop_queue(queue_name), and returns true.
create function pgmq.drop_queue(queue_name text, partitioned boolean) returns boolean
language plpgsql
set search_path to ''
as $function$
begin
  raise warning using
    message = 'drop_queue(queue_name, partitioned) is deprecated and will be removed in pgmq 2.0.',
    hint = 'Call drop_queue(queue_name) instead.';
  perform pgmq.drop_queue(queue_name);
  return true;
end
$function$;
