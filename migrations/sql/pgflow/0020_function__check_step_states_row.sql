-- The rules every row of pgflow.step_states keeps (what a step state may be: its states, its timestamps, its
-- counters), checked by the table's one CHECK constraint step_states_rules, which passes the row's columns.
-- Raises check_violation (23514) naming the first rule the row breaks, as a constraint of that name
-- would. One constraint calling this function instead of one constraint per rule: PostgreSQL reads
-- each CHECK constraint of a table again from its stored text, and prepares it, in every statement
-- that writes the table. With a constraint per rule, that cost a one-step run about 0.6 ms of its
-- 7.5 ms in SQL (docs/SCALING.md); one call per row costs less.
-- A new state or invariant is a new rule here (a new migration replaces the function).
create function pgflow._check_step_states_row(
  status text,
  remaining_tasks int,
  initial_tasks int,
  remaining_deps int,
  output jsonb,
  error_message text,
  skip_reason text,
  created_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  skipped_at timestamptz,
  cancelled_at timestamptz
)
returns boolean
language plpgsql
immutable
set search_path to ''
as $$
declare
  -- The first rule the row breaks; null (a rule whose test is null holds, as in a CHECK constraint) when none.
  v_broken text := case
    when not (status in ('created', 'started', 'completed', 'failed', 'skipped', 'cancelled'))
      then 'step_states_status_is_valid'
    when not (remaining_deps >= 0)
      then 'step_states_remaining_deps_non_negative'
    when not (initial_tasks is null or initial_tasks >= 0)
      then 'step_states_initial_tasks_non_negative'
    when not (remaining_tasks is null or remaining_tasks >= 0)
      then 'step_states_remaining_tasks_non_negative'
    when not (case status when 'created' then remaining_tasks is null when 'started' then remaining_tasks is not null and remaining_tasks > 0 when 'completed' then remaining_tasks = 0 else true end)
      then 'step_states_remaining_tasks_matches_status'
    when not (status not in ('started', 'completed') or initial_tasks is not null)
      then 'step_states_started_knows_its_tasks'
    when not (remaining_tasks is null or initial_tasks is null or remaining_tasks <= initial_tasks)
      then 'step_states_remaining_within_initial'
    when not (status = 'created' or status = 'skipped' or status = 'failed' or status = 'cancelled' or remaining_deps = 0)
      then 'step_states_ready_before_start'
    when not (output is null or status = 'completed')
      then 'step_states_output_only_when_completed'
    when not (error_message is null or status in ('failed', 'skipped'))
      then 'step_states_error_only_when_failed_or_skipped'
    when not ((status = 'skipped') = (skip_reason is not null))
      then 'step_states_skip_reason_iff_skipped'
    when not (skip_reason is null or skip_reason in ('condition_unmet', 'handler_failed', 'dependency_skipped'))
      then 'step_states_skip_reason_is_valid'
    when not (num_nonnulls(completed_at, failed_at, skipped_at, cancelled_at) <= 1)
      then 'step_states_one_terminal_timestamp'
    when not ((status = 'completed') = (completed_at is not null))
      then 'step_states_completed_at_matches_status'
    when not ((status = 'failed') = (failed_at is not null))
      then 'step_states_failed_at_matches_status'
    when not ((status = 'skipped') = (skipped_at is not null))
      then 'step_states_skipped_at_matches_status'
    when not (status <> 'started' or started_at is not null)
      then 'step_states_started_at_when_started'
    when not (started_at is null or started_at >= created_at)
      then 'step_states_started_after_created'
    when not (completed_at is null or completed_at >= coalesce(started_at, created_at))
      then 'step_states_completed_after_start'
    when not (failed_at is null or failed_at >= coalesce(started_at, created_at))
      then 'step_states_failed_after_start'
    when not (skipped_at is null or skipped_at >= created_at)
      then 'step_states_skipped_after_created'
    when not ((status = 'cancelled') = (cancelled_at is not null))
      then 'step_states_cancelled_at_matches_status'
    when not (cancelled_at is null or cancelled_at >= created_at)
      then 'step_states_cancelled_after_created'
  end;
begin
  if v_broken is null then
    return true;
  end if;
  raise exception using errcode = 'check_violation', schema = 'pgflow', table = 'step_states', constraint = v_broken,
    message = format('new row for relation "step_states" violates check constraint "%s"', v_broken);
end;
$$;
