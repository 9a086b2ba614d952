-- What the engine archives a flow's messages with: pgmq.archive(p_queue, p_msg_ids), with a static
-- statement for each flow's queue below the marker (see pgflow._queue_read and
-- pgflow._write_queue_statements), else through pgmq.archive.
create function pgflow._queue_archive(p_queue text, p_msg_ids bigint[])
returns setof bigint
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query select pgmq.archive(p_queue, p_msg_ids);
end;
$$;
