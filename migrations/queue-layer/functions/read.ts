/**
 * pgmq.read(queue_name, vt, qty, conditional): takes up to qty visible messages, lowest msg_id
 * first, skipping rows other transactions have locked; each becomes invisible for vt seconds and
 * its read_ct goes up by one. The rows returned show the new values, in msg_id order.
 */
import { literal, plpgsqlFunction } from '../sql.ts';

/**
 * The statement behind read and read_with_poll; format() fills in the queue table twice.
 * $1 vt seconds, $2 qty, $3 conditional. Parameters of EXECUTE ... USING are constants to the
 * planner, so the conditional test folds away when conditional is '{}' or null (pgmq then reads
 * every message, objects or not).
 */
export const READ_STATEMENT = `with picked as (
  select msg_id from pgmq.%1$I
   where vt <= clock_timestamp() and ($3 is null or $3 = '{}'::jsonb or message @> $3)
   order by msg_id
   limit $2
   for update skip locked
), taken as (
  update pgmq.%1$I as q
     set vt = clock_timestamp() + make_interval(secs => $1), read_ct = q.read_ct + 1
    from picked
   where q.msg_id = picked.msg_id
  returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers
)
select msg_id, read_ct, enqueued_at, vt, message, headers from taken order by msg_id`;

export const readFunction = plpgsqlFunction(
  "read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')",
  'setof pgmq.message_record',
  `
begin
  return query execute format(${literal(READ_STATEMENT)}, pgmq.format_table_name(queue_name, 'q'))
    using vt, qty, conditional;
end`,
);
