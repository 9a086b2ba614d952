/**
 * pgmq.purge_queue(queue_name): deletes every message of the queue (the archive stays) and returns
 * how many. A DELETE, not a TRUNCATE: it takes no exclusive lock, so readers and senders go on.
 */
import { literal, plpgsqlFunction } from '../sql.ts';

export const purgeQueueFunction = plpgsqlFunction(
  'purge_queue(queue_name text)',
  'bigint',
  `
declare
  deleted bigint;
begin
  execute format(${literal('delete from pgmq.%I')}, pgmq.format_table_name(queue_name, 'q'));
  get diagnostics deleted = row_count;
  return deleted;
end`,
);
