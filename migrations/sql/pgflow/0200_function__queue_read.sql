-- What the engine's claim reads a flow's queue with: pgmq.read(p_queue, p_vt, p_qty), returning only
-- the ids of the messages read. pgmq.read builds its statement for the queue's table and plans it again
-- at every call (dynamic SQL); pgflow._write_queue_statements() writes a static copy of that statement
-- for each flow's queue below the marker, whose plan PL/pgSQL keeps for the session. A queue without
-- one (created outside create_flow, or beyond the limit) goes through pgmq.read, as before.
-- The static statement takes the same messages in the same order (lowest msg_id first among the
-- visible ones), found one of two ways. pgmq.read walks the queue in msg_id order and passes over
-- every invisible message on its way, most of them those of the tasks in flight (the oldest ids):
-- with 10,000 tasks in flight a claim of 4 new tasks read 10,000 messages. So the visible messages are
-- first looked up by their visibility (the queue's vt index), p_qty + 20 at most. When fewer are
-- visible, those are all of them (the claim can take every visible message, as when work trickles in
-- while many tasks run), and the claim takes the lowest ids among them without reading any other
-- message. Otherwise (a backlog of more than a batch) the queue is read in msg_id order as pgmq.read
-- does, a read whose passing over the tasks in flight a full batch shares.
create function pgflow._queue_read(p_queue text, p_vt int, p_qty int)
returns setof bigint
language plpgsql
volatile
set search_path to ''
as $$
declare
  -- The visible messages, when fewer than p_qty + 20 (the static statements).
  v_visible bigint[];
  -- The time they are visible at, as a value: compared with clock_timestamp() itself, the vt index
  -- could not bound its scan and read every message.
  v_now timestamptz := clock_timestamp();
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query select m.msg_id from pgmq.read(p_queue, p_vt, p_qty) m;
end;
$$;
