-- pgmq.validate_queue_name(queue_name): the rules a new queue's name must pass. Its table and
-- index names must stay within PostgreSQL's 63-byte identifiers, hence the length limit.
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
  if length(queue_name) > 47 then
    raise exception using
      message = 'queue name is too long, maximum length is 47 characters',
      detail = format('The queue name %L has %s characters.', queue_name, length(queue_name)),
      hint = 'Choose a name of at most 47 characters.';
  end if;
end
$function$;
