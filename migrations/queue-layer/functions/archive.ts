/**
 * pgmq.archive(queue_name, msg_id) → boolean and pgmq.archive(queue_name, msg_ids) → the ids
 * actually archived: each message moves from q_<name> to a_<name> in one statement.
 */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

/** $1: the ids; format() fills in the queue table, then the archive table. */
function moveStatement(match: string): string {
  return `with moved as (
  delete from pgmq.%I where ${match}
  returning msg_id, read_ct, enqueued_at, vt, message, headers
)
insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
select msg_id, read_ct, enqueued_at, vt, message, headers from moved
returning msg_id`;
}

const TABLES = `${tableOf('q')}, ${tableOf('a')}`;

export const archiveOneFunction = plpgsqlFunction(
  'archive(queue_name text, msg_id bigint)',
  'boolean',
  `
declare
  archived bigint;
begin
  ${rejectInvalidCharacters('queue_name')}
  execute format(${literal(moveStatement('msg_id = $1'))}, ${TABLES}) into archived using msg_id;
  return archived is not null;
end`,
);

export const archiveManyFunction = plpgsqlFunction(
  'archive(queue_name text, msg_ids bigint[])',
  'setof bigint',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal(moveStatement('msg_id = any($1)'))}, ${TABLES}) using msg_ids;
end`,
);
