/**
 * pgmq.read_with_poll(queue_name, vt, qty, max_poll_seconds, poll_interval_ms, conditional): read,
 * and while nothing is visible, sleep poll_interval_ms (pg_sleep: no CPU) and read again, until
 * something is read or max_poll_seconds have passed. It reads at least once and once more at the
 * deadline, and never sleeps past it. Each re-read is a new statement, so in READ COMMITTED it sees
 * messages committed during the wait.
 */
import { plpgsqlFunction } from '../sql.ts';
import { returnRead } from './read.ts';

export const readWithPollFunction = plpgsqlFunction(
  'read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer default 5, ' +
    "poll_interval_ms integer default 100, conditional jsonb default '{}')",
  'setof pgmq.message_record',
  `
declare
  queue_table text := pgmq.format_table_name(queue_name, 'q');
  stop_at timestamptz := clock_timestamp() + make_interval(secs => max_poll_seconds);
  -- A zero or negative interval would spin; one millisecond is the shortest pause.
  pause double precision := greatest(poll_interval_ms, 1) / 1000.0;
begin
  loop
    ${returnRead('queue_table')}
    if found or clock_timestamp() >= stop_at then
      return;
    end if;
    perform pg_sleep(least(pause, extract(epoch from stop_at - clock_timestamp())::double precision));
  end loop;
end`,
);
