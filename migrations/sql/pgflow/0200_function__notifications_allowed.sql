-- Whether the engine may notify. NOTIFY's queue is one per server, and a session that LISTENs and
-- then sits in an open transaction keeps every later notification in it; once the queue is full,
-- every commit that notifies fails. So past limits.notify_queue_shed_at of the queue the engine
-- stops notifying (events and work wake-ups): workers find their work at their next poll and
-- clients read outcomes from the tables, later but without a failed commit. Realtime (Supabase) is
-- not NOTIFY and goes on.
create function pgflow._notifications_allowed()
returns boolean
language sql
stable
set search_path to ''
as $$
  select pg_notification_queue_usage() < (pgflow._limits()).notify_queue_shed_at
$$;
