-- pgmq.create_partitioned(queue_name, partition_interval, retention_interval): partitioned queues
-- need pg_partman and are not part of the fallback, so this always fails with pgmq's own error for
-- a server without pg_partman, after the same name checks as create.
create function pgmq.create_partitioned(queue_name text, partition_interval text default '10000', retention_interval text default '100000') returns void
language plpgsql
set search_path to ''
as $function$
begin
  perform pgmq.validate_queue_name(queue_name);
  raise exception using
    message = 'pg_partman is required for partitioned queues',
    hint = 'The pgflow fallback for pgmq has no partitioned queues: use pgmq.create(), or install the '
      'pgmq extension and pg_partman on the server.';
end
$function$;
