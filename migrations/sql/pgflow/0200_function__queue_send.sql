-- What the engine sends a step's task messages with: pgmq.send_batch(p_queue, p_messages, p_delay),
-- with a static statement for each flow's queue below the marker (see pgflow._queue_read and
-- pgflow._write_queue_statements), else through pgmq.send_batch. Returns the new ids in ascending
-- order, the order of the messages in the array, all visible at the same moment.
create function pgflow._queue_send(p_queue text, p_messages jsonb[], p_delay int)
returns setof bigint
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_vt timestamptz := clock_timestamp() + make_interval(secs => p_delay);
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query select pgmq.send_batch(p_queue, p_messages, p_delay);
end;
$$;
