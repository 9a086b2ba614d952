-- pgmq.detach_archive(queue_name): in the extension it takes the archive table out of the
-- extension, so that DROP EXTENSION keeps it. The fallback has no extension to detach from: it only
-- checks the name and that the archive exists (42P01 otherwise), like the extension does.
create function pgmq.detach_archive(queue_name text) returns void
language plpgsql
set search_path to ''
as $function$
begin
  perform format('pgmq.%I', pgmq.format_table_name(queue_name, 'a'))::regclass;
end
$function$;
