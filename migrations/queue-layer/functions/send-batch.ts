/**
 * pgmq.send_batch(queue_name, msgs [, headers] [, delay]): many messages in one statement; returns
 * their msg_ids in ascending order (rows are numbered in array order). An empty or null array sends
 * nothing. headers[i] goes with msgs[i]; as in pgmq, the shorter array is padded with nulls.
 */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { sendVariants } from '../send-variants.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

const INSERT_MANY =
  'insert into pgmq.%I (vt, message) select $1, m.message from unnest($2::jsonb[]) as m(message) returning msg_id';
const INSERT_MANY_WITH_HEADERS =
  'insert into pgmq.%I (vt, message, headers) select $1, m.message, m.headers ' +
  'from unnest($2::jsonb[], $3::jsonb[]) as m(message, headers) returning msg_id';

export const sendBatchFunctions: readonly string[] = sendVariants('jsonb[]').map((variant) =>
  plpgsqlFunction(
    `send_batch(queue_name text, msgs jsonb[]${variant.extraArguments})`,
    'setof bigint',
    `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal(variant.headers ? INSERT_MANY_WITH_HEADERS : INSERT_MANY)}, ${tableOf('q')})
    using ${variant.vt}, msgs${variant.headers ? `, ${variant.headers}` : ''};
end`,
  ),
);
