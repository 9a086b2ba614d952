/** pgmq.pop(queue_name): deletes and returns the first visible message (read_ct unchanged). */
import { literal, plpgsqlFunction } from '../sql.ts';

const POP = `with picked as (
  select msg_id from pgmq.%1$I
   where vt <= clock_timestamp()
   order by msg_id
   limit 1
   for update skip locked
)
delete from pgmq.%1$I as q
 using picked
 where q.msg_id = picked.msg_id
returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers`;

export const popFunction = plpgsqlFunction(
  'pop(queue_name text)',
  'setof pgmq.message_record',
  `
begin
  return query execute format(${literal(POP)}, pgmq.format_table_name(queue_name, 'q'));
end`,
);
