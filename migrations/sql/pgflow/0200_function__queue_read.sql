-- What the engine's claim reads a flow's queue with: pgmq.read(p_queue, p_vt, p_qty), returning only
-- the ids of the messages read. pgmq.read builds its statement for the queue's table and plans it again
-- at every call (dynamic SQL); pgflow._write_queue_statements() writes a static copy of that statement
-- for each flow's queue below the marker, whose plan PL/pgSQL keeps for the session. A queue without
-- one (created outside create_flow, or beyond the limit) goes through pgmq.read, as before.
create function pgflow._queue_read(p_queue text, p_vt int, p_qty int)
returns setof bigint
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- Static statements per queue (pgflow._write_queue_statements).
  return query select m.msg_id from pgmq.read(p_queue, p_vt, p_qty) m;
end;
$$;
