/** pgmq.send(queue_name, msg [, headers] [, delay]): one message; returns its msg_id. */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { sendVariants } from '../send-variants.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

const INSERT_ONE = 'insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id';

export const sendFunctions: readonly string[] = sendVariants('jsonb').map((variant) =>
  plpgsqlFunction(
    `send(queue_name text, msg jsonb${variant.extraArguments})`,
    'setof bigint',
    `
begin
  ${rejectInvalidCharacters('queue_name')}
  return query execute format(${literal(INSERT_ONE)}, ${tableOf('q')})
    using ${variant.vt}, msg, ${variant.headers ?? 'null::jsonb'};
end`,
  ),
);
