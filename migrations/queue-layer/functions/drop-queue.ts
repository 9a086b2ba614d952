/**
 * pgmq.drop_queue(queue_name): drops the queue, its archive and its pgmq.meta row and returns true;
 * for a queue pgmq.meta does not know, returns false with pgmq's NOTICE.
 */
import { QUEUE_DOES_NOT_EXIST_NOTICE } from '../messages.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

export const dropQueueFunction = plpgsqlFunction(
  'drop_queue(queue_name text)',
  'boolean',
  `
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  archive_table text := pgmq.format_table_name(queue_name, 'a');
begin
  delete from pgmq.meta as m where m.queue_name = drop_queue.queue_name;
  if not found then
    raise notice ${literal(QUEUE_DOES_NOT_EXIST_NOTICE)}, queue_name;
    return false;
  end if;
  execute format('drop table if exists pgmq.%I', queue_table);
  execute format('drop table if exists pgmq.%I', archive_table);
  return true;
end`,
);
