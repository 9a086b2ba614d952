/**
 * The queue layer (schema pgmq), as released: the pgmq extension where the server has it, else our
 * fallback, an implementation of pgmq 1.5's SQL API in plain SQL and PL/pgSQL. PGFLOW_PGMQ (auto |
 * extension | fallback) is read when the migration runs; see queue-layer/detect.ts for the decision.
 * A frozen snapshot: this SQL never changes (migrations/frozen.json holds its checksum); a change
 * to the fallback is a new migration, generated from migrations/sql/pgmq (see migrations/README.md).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { chooseImplementation, installedImplementation, pgmqMode, readPgmqState } from './queue-layer/detect.ts';
import { type MigrationSql, runMigrationSql } from './support/apply-migration.ts';

const sql: MigrationSql = {
  up: {
    extension: ['create extension if not exists pgmq'],
    fallback: [
      `create schema pgmq
`,
      `comment on schema pgmq is 'pgflow fallback: the pgmq 1.5 SQL API implemented in plain SQL and PL/pgSQL (no extension), installed by the nestjs-pgflow migration QueueLayer1764150000000. Removed by reverting that migration.'
`,
      `create type pgmq.message_record as (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamptz,
  vt timestamptz,
  message jsonb,
  headers jsonb
)
`,
      `create type pgmq.queue_record as (
  queue_name varchar,
  is_partitioned boolean,
  is_unlogged boolean,
  created_at timestamptz
)
`,
      `create type pgmq.metrics_result as (
  queue_name text,
  queue_length bigint,
  newest_msg_age_sec integer,
  oldest_msg_age_sec integer,
  total_messages bigint,
  scrape_time timestamptz,
  queue_visible_length bigint
)
`,
      `create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null,
  is_unlogged boolean not null,
  created_at timestamptz not null default now()
)
`,
      `create function pgmq.format_table_name(queue_name text, prefix text) returns text
language plpgsql immutable parallel safe
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return lower(prefix || '_' || queue_name);
end
$function$
`,
      `create function pgmq.validate_queue_name(queue_name text) returns void
language plpgsql immutable parallel safe
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  if length(queue_name) > 47 then
    raise exception using
      message = 'queue name is too long, maximum length is 47 characters',
      detail = format('The queue name %L has %s characters.', queue_name, length(queue_name)),
      hint = 'Choose a name of at most 47 characters.';
  end if;
end
$function$
`,
      `create function pgmq.create(queue_name text) returns void
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
$function$
`,
      `create function pgmq.create_unlogged(queue_name text) returns void
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
    'create unlogged table if not exists pgmq.%I (
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
  values (queue_name, false, true)
  on conflict do nothing;
end
$function$
`,
      `create function pgmq.create_partitioned(queue_name text, partition_interval text default '10000', retention_interval text default '100000') returns void
language plpgsql
set search_path to ''
as $function$
begin
  perform pgmq.validate_queue_name(queue_name);
  raise exception using
    message = 'pg_partman is required for partitioned queues',
    hint = 'The pgflow fallback for pgmq has no partitioned queues: use pgmq.create(), or install the '
      'pgmq extension and pg_partman on the server.';
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msg, null::jsonb;
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb, delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msg, null::jsonb;
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb, delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using delay, msg, null::jsonb;
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb, headers jsonb) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msg, headers;
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msg, headers;
end
$function$
`,
      `create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using delay, msg, headers;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msgs;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msgs;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using delay, msgs;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msgs, headers;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msgs, headers;
end
$function$
`,
      `create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using delay, msgs, headers;
end
$function$
`,
      `create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}') returns setof pgmq.message_record
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  if conditional is null or conditional = '{}'::jsonb then
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name))
      using make_interval(secs => vt), qty;
  else
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp() and message @> $3
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name))
      using make_interval(secs => vt), qty, conditional;
  end if;
end
$function$
`,
      `create function pgmq.read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer default 5, poll_interval_ms integer default 100, conditional jsonb default '{}') returns setof pgmq.message_record
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  stop_at timestamptz := clock_timestamp() + make_interval(secs => max_poll_seconds);
  -- A zero or negative interval would spin; one millisecond is the shortest pause.
  pause double precision := greatest(poll_interval_ms, 1) / 1000.0;
begin
  loop
    if conditional is null or conditional = '{}'::jsonb then
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', queue_table)
      using make_interval(secs => vt), qty;
  else
    return query execute format('update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp() and message @> $3
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', queue_table)
      using make_interval(secs => vt), qty, conditional;
  end if;
    if found or clock_timestamp() >= stop_at then
      return;
    end if;
    perform pg_sleep(least(pause, extract(epoch from stop_at - clock_timestamp())::double precision));
  end loop;
end
$function$
`,
      `create function pgmq.pop(queue_name text) returns setof pgmq.message_record
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('delete from pgmq.%1$I
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit 1
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name));
end
$function$
`,
      `create function pgmq.archive(queue_name text, msg_id bigint) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  archived bigint;
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  execute format('with moved as (
  delete from pgmq.%I where msg_id = $1
  returning msg_id, read_ct, enqueued_at, vt, message, headers
)
insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
select msg_id, read_ct, enqueued_at, vt, message, headers from moved
returning msg_id', 'q_' || lower(queue_name), 'a_' || lower(queue_name)) into archived using msg_id;
  return archived is not null;
end
$function$
`,
      `create function pgmq.archive(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('with moved as (
  delete from pgmq.%I where msg_id = any($1)
  returning msg_id, read_ct, enqueued_at, vt, message, headers
)
insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
select msg_id, read_ct, enqueued_at, vt, message, headers from moved
returning msg_id', 'q_' || lower(queue_name), 'a_' || lower(queue_name)) using msg_ids;
end
$function$
`,
      `create function pgmq.delete(queue_name text, msg_id bigint) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  deleted bigint;
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  execute format('delete from pgmq.%I where msg_id = $1 returning msg_id', 'q_' || lower(queue_name))
    into deleted using msg_id;
  return deleted is not null;
end
$function$
`,
      `create function pgmq.delete(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('delete from pgmq.%I where msg_id = any($1) returning msg_id', 'q_' || lower(queue_name))
    using msg_ids;
end
$function$
`,
      `create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer) returns setof pgmq.message_record
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \\''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('update pgmq.%I
   set vt = clock_timestamp() + make_interval(secs => $2)
 where msg_id = $1
returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || lower(queue_name)) using msg_id, vt;
end
$function$
`,
      `create function pgmq.purge_queue(queue_name text) returns bigint
language plpgsql
set search_path to ''
as $function$
declare
  deleted bigint;
begin
  execute format('delete from pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  get diagnostics deleted = row_count;
  return deleted;
end
$function$
`,
      `create function pgmq.drop_queue(queue_name text) returns boolean
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  archive_table text := pgmq.format_table_name(queue_name, 'a');
begin
  delete from pgmq.meta as m where m.queue_name = drop_queue.queue_name;
  if not found then
    raise notice 'pgmq queue \`%\` does not exist', queue_name;
    return false;
  end if;
  execute format('drop table if exists pgmq.%I', queue_table);
  execute format('drop table if exists pgmq.%I', archive_table);
  return true;
end
$function$
`,
      `create function pgmq.list_queues() returns setof pgmq.queue_record
language sql stable
set search_path to ''
as $function$
select queue_name, is_partitioned, is_unlogged, created_at
  from pgmq.meta
 order by queue_name
$function$
`,
      `create function pgmq.metrics(queue_name text) returns pgmq.metrics_result
language plpgsql
set search_path to ''
as $function$
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  result pgmq.metrics_result;
begin
  execute format('select $1::text,
       count(*),
       extract(epoch from now() - max(enqueued_at))::integer,
       extract(epoch from now() - min(enqueued_at))::integer,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence($2, ''msg_id'')::regclass), 0),
       now(),
       count(*) filter (where vt <= now())
  from pgmq.%I', queue_table) into result using queue_name, format('pgmq.%I', queue_table);
  return result;
end
$function$
`,
      `create function pgmq.metrics_all() returns setof pgmq.metrics_result
language sql
set search_path to ''
as $function$
select m.*
  from pgmq.meta as q
 cross join lateral pgmq.metrics(q.queue_name) as m
 order by q.queue_name
$function$
`,
      `create function pgmq.detach_archive(queue_name text) returns void
language plpgsql
set search_path to ''
as $function$
begin
  perform format('pgmq.%I', pgmq.format_table_name(queue_name, 'a'))::regclass;
end
$function$
`,
      `revoke execute on all functions in schema pgmq from public
`,
    ],
  },
  down: {
    // The fallback's schema holds everything it made, queues included; a real extension stays
    // (other code may use it).
    fallback: [
      `drop schema pgmq cascade
`,
    ],
  },
};

export class QueueLayer1764150000000 implements MigrationInterface {
  static readonly sql = sql;
  readonly name = 'QueueLayer1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const implementation = chooseImplementation(pgmqMode(), await readPgmqState(queryRunner));
    await runMigrationSql(queryRunner, this.name, 'up', sql.up[implementation] ?? []);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const installed = installedImplementation(await readPgmqState(queryRunner));
    await runMigrationSql(queryRunner, this.name, 'down', installed === 'fallback' ? (sql.down.fallback ?? []) : []);
  }
}
