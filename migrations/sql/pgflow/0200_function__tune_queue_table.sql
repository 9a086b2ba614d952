-- Autovacuum settings of a flow's queue table (pgmq's q_<queue>): every message is inserted, updated
-- at each read and deleted when archived, so the table holds few live rows and many dead ones. The
-- default (vacuum at 50 + 20% of the live rows, throttled) let it bloat during the soak; vacuumed at
-- 1,000 dead rows, unthrottled (the live part is small, a round is cheap), it stays small
-- (docs/RELIABILITY.md, "The soak"). Called by create_flow for each new queue, and by the migration
-- that introduced it for the existing ones. A role that does not own the table (the pgmq extension's
-- tables may belong to another role) leaves the defaults in place, with a notice.
create function pgflow._tune_queue_table(queue_name text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  execute format('alter table pgmq.%I set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, '
                 'autovacuum_vacuum_cost_delay = 0)', pgmq.format_table_name(_tune_queue_table.queue_name, 'q'));
exception when insufficient_privilege then
  raise notice 'Queue table of % keeps the default autovacuum settings: %', _tune_queue_table.queue_name, sqlerrm;
end;
$$;
