/** pgmq.list_queues(): every queue pgmq.meta knows, by name. */
import { sqlFunction } from '../sql.ts';

export const listQueuesFunction = sqlFunction(
  'list_queues()',
  'setof pgmq.queue_record',
  `
select queue_name, is_partitioned, is_unlogged, created_at
  from pgmq.meta
 order by queue_name`,
  'stable',
);
