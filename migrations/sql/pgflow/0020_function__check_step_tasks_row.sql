-- The rules every row of pgflow.step_tasks keeps (what a task may be: its states, its timestamps, its
-- counters), checked by the table's one CHECK constraint step_tasks_rules, which passes the row's columns.
-- Raises check_violation (23514) naming the first rule the row breaks, as a constraint of that name
-- would. One constraint calling this function instead of one constraint per rule: PostgreSQL reads
-- each CHECK constraint of a table again from its stored text, and prepares it, in every statement
-- that writes the table. With a constraint per rule, that cost a one-step run about 0.6 ms of its
-- 7.5 ms in SQL (docs/SCALING.md); one call per row costs less.
-- A new state or invariant is a new rule here (a new migration replaces the function).
create function pgflow._check_step_tasks_row(
  message_id bigint,
  task_index int,
  status text,
  attempts_count int,
  output jsonb,
  queued_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  requeued_count int,
  permanently_stalled_at timestamptz,
  cancelled_at timestamptz,
  sleep_until timestamptz,
  child_run_id uuid
)
returns boolean
language plpgsql
immutable
set search_path to ''
as $$
declare
  -- The first rule the row breaks; null (a rule whose test is null holds, as in a CHECK constraint) when none.
  v_broken text := case
    when not (status in ('queued', 'started', 'completed', 'failed', 'cancelled'))
      then 'step_tasks_status_is_valid'
    when not (task_index >= 0)
      then 'step_tasks_task_index_non_negative'
    when not (attempts_count >= 0)
      then 'step_tasks_attempts_non_negative'
    when not (requeued_count >= 0)
      then 'step_tasks_requeued_non_negative'
    when not (output is null or status in ('completed', 'failed'))
      then 'step_tasks_output_only_when_finished'
    when not (num_nonnulls(completed_at, failed_at, cancelled_at) <= 1)
      then 'step_tasks_one_terminal_timestamp'
    when not ((status = 'completed') = (completed_at is not null))
      then 'step_tasks_completed_at_matches_status'
    when not ((status = 'failed') = (failed_at is not null))
      then 'step_tasks_failed_at_matches_status'
    when not (status <> 'started' or started_at is not null)
      then 'step_tasks_started_at_when_started'
    when not (status <> 'started' or attempts_count > 0)
      then 'step_tasks_started_tasks_were_attempted'
    when not (completed_at is null or completed_at >= queued_at)
      then 'step_tasks_completed_after_queued'
    when not (failed_at is null or failed_at >= queued_at)
      then 'step_tasks_failed_after_queued'
    when not (permanently_stalled_at is null or status = 'failed')
      then 'step_tasks_stalled_only_when_failed'
    when not ((status = 'cancelled') = (cancelled_at is not null))
      then 'step_tasks_cancelled_at_matches_status'
    when not (cancelled_at is null or cancelled_at >= queued_at)
      then 'step_tasks_cancelled_after_queued'
    when not (sleep_until is null or sleep_until >= queued_at)
      then 'step_tasks_sleep_until_after_queued'
    when not (message_id is not null or status <> 'started')
      then 'step_tasks_started_has_message'
    when not (child_run_id is null or status = 'started')
      then 'step_tasks_child_run_only_when_started'
  end;
begin
  if v_broken is null then
    return true;
  end if;
  raise exception using errcode = 'check_violation', schema = 'pgflow', table = 'step_tasks', constraint = v_broken,
    message = format('new row for relation "step_tasks" violates check constraint "%s"', v_broken);
end;
$$;
