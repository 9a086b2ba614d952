/** pgmq.pop(queue_name): deletes and returns the first visible message (read_ct unchanged). */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

/** The same InitPlan form as read (see read.ts for why not a CTE join). */
const POP = `delete from pgmq.%1$I
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()
          order by msg_id
          limit 1
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers`;

export const popFunction = plpgsqlFunction(
  'pop(queue_name text)',
  'setof pgmq.message_record',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal(POP)}, ${tableOf('q')});
end`,
);
