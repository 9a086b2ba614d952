-- pgflow's poll_for_tasks, deprecated there (and here) in favour of pgmq.read_with_poll followed by
-- start_tasks: as in pgflow, it only says so and returns nothing.
create function pgflow.poll_for_tasks(
  queue_name text, vt integer, qty integer, max_poll_seconds integer default 5, poll_interval_ms integer default 100
)
returns setof pgflow.step_task_record
language plpgsql
volatile
set search_path to ''
as $$
begin
  raise notice using
    message = 'pgflow.poll_for_tasks is deprecated and returns nothing.',
    hint = 'Read messages with pgmq.read_with_poll, then start their tasks with pgflow.start_tasks.';
  return;
end;
$$;
