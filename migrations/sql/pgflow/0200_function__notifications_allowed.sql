-- Whether the engine may notify. NOTIFY's queue is one per server, and a session that LISTENs and
-- then sits in an open transaction keeps every later notification in it; once the queue is full,
-- every commit that notifies fails. So past limits.notify_queue_shed_at of the queue the engine
-- stops notifying (events and work wake-ups): workers find their work at their next poll and
-- clients read outcomes from the tables, later but without a failed commit. Realtime (Supabase) is
-- not NOTIFY and goes on. PL/pgSQL for its cached plan (see _limits).
create function pgflow._notifications_allowed()
returns boolean
language plpgsql
stable
set search_path to ''
as $$
begin
  return pg_notification_queue_usage() < (select l.notify_queue_shed_at from pgflow.limits l where l.singleton);
end;
$$;
