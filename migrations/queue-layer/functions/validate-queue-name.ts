/**
 * pgmq.validate_queue_name(queue_name): the rules a new queue's name must pass. Its table and
 * index names must stay within PostgreSQL's 63-byte identifiers, hence the length limit.
 */
import { rejectInvalidCharacters, rejectTooLong } from '../name-rules.ts';
import { plpgsqlFunction } from '../sql.ts';

export const validateQueueNameFunction = plpgsqlFunction(
  'validate_queue_name(queue_name text)',
  'void',
  `
begin
  ${rejectInvalidCharacters('queue_name')}
  ${rejectTooLong('queue_name')}
end`,
  'immutable parallel safe',
);
