-- Whether the queue holds a message that a read would take now: the claimed start and report
-- (_start_claimed_run, _complete_plain_task) step aside for the general claim then, which takes older
-- messages first. A static statement for each flow's queue below the marker (see pgflow._queue_read
-- and pgflow._write_queue_statements), else a dynamic one, planned at every call.
-- Compared with the time as a value, not with clock_timestamp() itself: the vt index then bounds the
-- look to the visible messages, where it read every message of the queue when none was visible (all
-- of them those of tasks in flight), once per start and report of the claimed paths.
create function pgflow._queue_has_visible(p_queue text)
returns setof boolean
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_now timestamptz := clock_timestamp();
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query execute format('select exists (select from pgmq.%I m where m.vt <= $1)', 'q_' || lower(p_queue))
    using v_now;
end;
$$;
