/**
 * pgmq.format_table_name(queue_name, prefix): the table of a queue ('q') or of its archive ('a'),
 * lower-cased, as pgmq names them. Every function that takes a queue name goes through it, so this
 * is where a name with `$`, `;`, `--` or `'` is rejected.
 */
import { rejectInvalidCharacters } from '../name-rules.ts';
import { plpgsqlFunction } from '../sql.ts';

export const formatTableNameFunction = plpgsqlFunction(
  'format_table_name(queue_name text, prefix text)',
  'text',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  return lower(prefix || '_' || queue_name);
end`,
  'immutable parallel safe',
);
