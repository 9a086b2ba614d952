/**
 * Small helpers shared by the queue layer's SQL modules. They only build migration text from
 * constants written in this folder; runtime values never pass through them.
 */

/** A constant string as an SQL literal (standard_conforming_strings is on since PostgreSQL 9.1). */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A PL/pgSQL function of the fallback: search_path is empty (every name inside is
 * schema-qualified, so nothing a caller puts on its search_path can shadow them).
 */
export function plpgsqlFunction(signature: string, returns: string, body: string, attributes = ''): string {
  return `create function pgmq.${signature} returns ${returns}
language plpgsql${attributes ? ` ${attributes}` : ''}
set search_path to ''
as $function$
${body.trim()}
$function$`;
}

/** An SQL-language function of the fallback, with the same empty search_path. */
export function sqlFunction(signature: string, returns: string, body: string, attributes = ''): string {
  return `create function pgmq.${signature} returns ${returns}
language sql${attributes ? ` ${attributes}` : ''}
set search_path to ''
as $function$
${body.trim()}
$function$`;
}
