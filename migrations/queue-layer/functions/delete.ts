/**
 * pgmq.delete(queue_name, msg_id) → boolean and pgmq.delete(queue_name, msg_ids) → the ids actually
 * deleted.
 */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

export const deleteOneFunction = plpgsqlFunction(
  'delete(queue_name text, msg_id bigint)',
  'boolean',
  `
declare
  deleted bigint;
begin
  ${rejectInvalidCharacters('queue_name')}
  execute format(${literal('delete from pgmq.%I where msg_id = $1 returning msg_id')}, ${tableOf('q')})
    into deleted using msg_id;
  return deleted is not null;
end`,
);

export const deleteManyFunction = plpgsqlFunction(
  'delete(queue_name text, msg_ids bigint[])',
  'setof bigint',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal('delete from pgmq.%I where msg_id = any($1) returning msg_id')}, ${tableOf('q')})
    using msg_ids;
end`,
);
