-- pgmq.validate_queue_name(queue_name): the rules a new queue's name must pass. Its table and
-- index names must stay within PostgreSQL's 63-byte identifiers, hence the length limit, counted
-- in bytes (of the name and of its lower-cased form): a longer name would be truncated, and two
-- names could then share one table. pgmq itself counts characters.
create function pgmq.validate_queue_name(queue_name text) returns void
language plpgsql immutable parallel safe
set search_path to ''
as $function$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception using
      message = 'queue name contains invalid characters: $, ;, --, or \''',
      detail = format('The queue name was %L.', queue_name),
      hint = 'Use letters, digits and underscores in queue names.';
  end if;
  if greatest(octet_length(queue_name), octet_length(lower(queue_name))) > 47 then
    raise exception using
      message = 'queue name is too long, maximum length is 47 characters',
      detail = format('The queue name %L has %s bytes (a character outside ASCII takes 2 to 4).',
                      queue_name, greatest(octet_length(queue_name), octet_length(lower(queue_name)))),
      hint = 'Choose a name of at most 47 bytes.';
  end if;
end
$function$;
