-- Whether the queue holds a message that a read would take now: the claimed start and report
-- (_start_claimed_run, _complete_plain_task) step aside for the general claim then, which takes older
-- messages first. A static statement for each flow's queue below the marker (see pgflow._queue_read
-- and pgflow._write_queue_statements), else a dynamic one, planned at every call.
create function pgflow._queue_has_visible(p_queue text)
returns setof boolean
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query execute format('select exists (select from pgmq.%I m where m.vt <= clock_timestamp())',
                              'q_' || lower(p_queue));
end;
$$;
