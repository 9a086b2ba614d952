/**
 * pgmq.set_vt(queue_name, msg_id, vt): the message becomes visible vt seconds from now (0: at
 * once); returns it with its new vt, or nothing when there is no such message.
 */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

const SET_VT = `update pgmq.%I
   set vt = clock_timestamp() + make_interval(secs => $2)
 where msg_id = $1
returning msg_id, read_ct, enqueued_at, vt, message, headers`;

export const setVtFunction = plpgsqlFunction(
  'set_vt(queue_name text, msg_id bigint, vt integer)',
  'setof pgmq.message_record',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal(SET_VT)}, ${tableOf('q')}) using msg_id, vt;
end`,
);
