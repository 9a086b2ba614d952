-- pgmq.send(queue_name, msg [, headers] [, delay]): one message; returns its msg_id.
create function pgmq.send(queue_name text, msg jsonb) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msg, null::jsonb;
end
$function$;

create function pgmq.send(queue_name text, msg jsonb, delay integer) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msg, null::jsonb;
end
$function$;

create function pgmq.send(queue_name text, msg jsonb, delay timestamptz) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using delay, msg, null::jsonb;
end
$function$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp(), msg, headers;
end
$function$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using clock_timestamp() + make_interval(secs => delay), msg, headers;
end
$function$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz) returns setof bigint
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
  return query execute format('insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id', 'q_' || lower(queue_name))
    using delay, msg, headers;
end
$function$;
