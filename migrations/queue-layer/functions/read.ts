/**
 * pgmq.read(queue_name, vt, qty, conditional): takes up to qty visible messages, lowest msg_id
 * first, skipping rows other transactions have locked; each becomes invisible for vt seconds and
 * its read_ct goes up by one. The rows returned show the new values.
 */
import { rejectInvalidCharacters, tableOf } from '../name-rules.ts';
import { literal, plpgsqlFunction } from '../sql.ts';

/**
 * The statement behind read and read_with_poll; format() fills in the queue table. $1 the new
 * vt's distance (an interval), $2 qty, $3 conditional.
 *
 * The ids are taken in an InitPlan (`= any(array(...))`) rather than joined from a CTE as pgmq
 * does: measured in this function, the CTE join cost 50-80 µs more per call (a third of a
 * read(1)+archive cycle without fsync), the array form nothing over the plain statement.
 */
function readStatement(conditional: boolean): string {
  return `update pgmq.%1$I
   set vt = clock_timestamp() + $1, read_ct = read_ct + 1
 where msg_id = any(array(
         select msg_id from pgmq.%1$I
          where vt <= clock_timestamp()${conditional ? ' and message @> $3' : ''}
          order by msg_id
          limit $2
          for update skip locked))
returning msg_id, read_ct, enqueued_at, vt, message, headers`;
}

/**
 * PL/pgSQL that returns the read's rows: `'{}'` and null conditionals read every message (objects
 * or not), as in pgmq. Expects `queue_name`, `vt`, `qty` and `conditional` in scope.
 */
export function returnRead(tableExpression: string): string {
  return `if conditional is null or conditional = '{}'::jsonb then
    return query execute format(${literal(readStatement(false))}, ${tableExpression})
      using make_interval(secs => vt), qty;
  else
    return query execute format(${literal(readStatement(true))}, ${tableExpression})
      using make_interval(secs => vt), qty, conditional;
  end if;`;
}

export const readFunction = plpgsqlFunction(
  "read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')",
  'setof pgmq.message_record',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  ${returnRead(tableOf('q'))}
end`,
);
