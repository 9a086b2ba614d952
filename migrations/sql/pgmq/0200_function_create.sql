-- pgmq.create(queue_name) and pgmq.create_unlogged(queue_name): the queue table q_<name> (msg_id
-- from 1, index on vt), its archive a_<name> (index on archived_at) and the pgmq.meta row.
-- Idempotent (every step is "if not exists") and transactional (plain DDL).
create function pgmq.create(queue_name text) returns void
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  archive_table text := pgmq.format_table_name(queue_name, 'a');
begin
  perform pgmq.validate_queue_name(queue_name);
  perform pg_advisory_xact_lock(hashtext('pgmq.create'), hashtext(queue_table));
  execute format(
    'create table if not exists pgmq.%I (
       msg_id bigint primary key generated always as identity,
       read_ct integer not null default 0,
       enqueued_at timestamptz not null default now(),
       vt timestamptz not null,
       message jsonb,
       headers jsonb)',
    queue_table);
  execute format('create index if not exists %I on pgmq.%I (vt)', queue_table || '_vt_idx', queue_table);
  -- The archive is always logged: it is the record of what was processed. Its column order is
  -- pgmq's (archived_at after enqueued_at), for code that reads archive rows by position.
  execute format(
    'create table if not exists pgmq.%I (
       msg_id bigint primary key,
       read_ct integer not null default 0,
       enqueued_at timestamptz not null default now(),
       archived_at timestamptz not null default now(),
       vt timestamptz not null,
       message jsonb,
       headers jsonb)',
    archive_table);
  -- 'archived_at_idx_' + a 47-character name is exactly 63 bytes: never truncated.
  execute format('create index if not exists %I on pgmq.%I (archived_at)',
    'archived_at_idx_' || substr(archive_table, 3), archive_table);
  insert into pgmq.meta (queue_name, is_partitioned, is_unlogged)
  values (queue_name, false, false)
  on conflict do nothing;
end
$function$;
