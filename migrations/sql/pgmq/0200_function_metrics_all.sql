-- pgmq.metrics_all(): pgmq.metrics of every queue in pgmq.meta, by name.
create function pgmq.metrics_all() returns setof pgmq.metrics_result
language sql
set search_path to ''
as $function$
select m.*
  from pgmq.meta as q
 cross join lateral pgmq.metrics(q.queue_name) as m
 order by q.queue_name
$function$;
