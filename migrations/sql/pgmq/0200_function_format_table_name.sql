-- pgmq.format_table_name(queue_name, prefix): the table of a queue ('q') or of its archive ('a'),
-- lower-cased, as pgmq names them. Every function that takes a queue name goes through it, so this
-- is where a name with `$`, `;`, `--` or `'` is rejected.
create function pgmq.format_table_name(queue_name text, prefix text) returns text
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
  return lower(prefix || '_' || queue_name);
end
$function$;
