/** pgmq.metrics_all(): pgmq.metrics of every queue in pgmq.meta, by name. */
import { sqlFunction } from '../sql.ts';

export const metricsAllFunction = sqlFunction(
  'metrics_all()',
  'setof pgmq.metrics_result',
  `
select m.*
  from pgmq.meta as q
 cross join lateral pgmq.metrics(q.queue_name) as m
 order by q.queue_name`,
);
