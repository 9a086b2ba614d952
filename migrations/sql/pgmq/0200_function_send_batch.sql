-- pgmq.send_batch(queue_name, msgs [, headers] [, delay]): many messages in one statement; returns
-- their msg_ids in ascending order (rows are numbered in array order). An empty or null array sends
-- nothing. headers[i] goes with msgs[i]; as in pgmq, the shorter array is padded with nulls.
create function pgmq.send_batch(queue_name text, msgs jsonb[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msgs;
end
$function$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msgs;
end
$function$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id', 'q_' || lower(queue_name))
    using delay, msgs;
end
$function$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msgs, headers;
end
$function$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msgs, headers;
end
$function$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz) returns setof bigint
language plpgsql
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id', 'q_' || lower(queue_name))
    using delay, msgs, headers;
end
$function$;
