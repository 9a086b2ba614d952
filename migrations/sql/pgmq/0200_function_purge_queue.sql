-- pgmq.purge_queue(queue_name): deletes every message of the queue (the archive stays) and returns
-- how many. A DELETE, not a TRUNCATE: it takes no exclusive lock, so readers and senders go on.
create function pgmq.purge_queue(queue_name text) returns bigint
language plpgsql
set search_path to ''
as $function$
declare
  deleted bigint;
begin
  execute format('delete from pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  get diagnostics deleted = row_count;
  return deleted;
end
$function$;
