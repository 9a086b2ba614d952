-- The rules every row of pgflow.runs keeps (what a run may be: its states, its timestamps, its
-- counters), checked by the table's one CHECK constraint runs_rules, which passes the row's columns.
-- Raises check_violation (23514) naming the first rule the row breaks, as a constraint of that name
-- would. One constraint calling this function instead of one constraint per rule: PostgreSQL reads
-- each CHECK constraint of a table again from its stored text, and prepares it, in every statement
-- that writes the table. With a constraint per rule, that cost a one-step run about 0.6 ms of its
-- 7.5 ms in SQL (docs/SCALING.md); one call per row costs less.
-- A new state or invariant is a new rule here (a new migration replaces the function).
create function pgflow._check_runs_row(
  run_id uuid,
  status text,
  output jsonb,
  remaining_steps int,
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  cancelled_at timestamptz,
  cancel_reason text,
  idempotency_key text,
  trace_context text,
  parent_run_id uuid,
  parent_step_slug text,
  parent_task_index int,
  priority int,
  rate_limit_key text,
  concurrency_key text,
  concurrency_state text,
  concurrency_ticket bigint
)
returns boolean
language plpgsql
immutable
set search_path to ''
as $$
declare
  -- The first rule the row breaks; null (a rule whose test is null holds, as in a CHECK constraint) when none.
  v_broken text := case
    when not (status in ('started', 'completed', 'failed', 'cancelled'))
      then 'runs_status_is_valid'
    when not (remaining_steps >= 0)
      then 'runs_remaining_steps_non_negative'
    when not (num_nonnulls(completed_at, failed_at, cancelled_at) <= 1)
      then 'runs_one_terminal_timestamp'
    when not ((status = 'completed') = (completed_at is not null))
      then 'runs_completed_at_matches_status'
    when not ((status = 'failed') = (failed_at is not null))
      then 'runs_failed_at_matches_status'
    when not (completed_at is null or completed_at >= started_at)
      then 'runs_completed_after_start'
    when not (failed_at is null or failed_at >= started_at)
      then 'runs_failed_after_start'
    when not (output is null or status = 'completed')
      then 'runs_output_only_when_completed'
    when not (status <> 'completed' or remaining_steps = 0)
      then 'runs_completed_has_no_remaining_steps'
    when not ((status = 'cancelled') = (cancelled_at is not null))
      then 'runs_cancelled_at_matches_status'
    when not (cancelled_at is null or cancelled_at >= started_at)
      then 'runs_cancelled_after_start'
    when not (cancel_reason is null or status = 'cancelled')
      then 'runs_cancel_reason_only_when_cancelled'
    when not (idempotency_key is null or length(idempotency_key) between 1 and 255)
      then 'runs_idempotency_key_length'
    when not (trace_context is null or trace_context ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$')
      then 'runs_trace_context_is_traceparent'
    when not (num_nulls(parent_run_id, parent_step_slug, parent_task_index) in (0, 3))
      then 'runs_parent_all_or_none'
    when not (parent_task_index is null or parent_task_index >= 0)
      then 'runs_parent_task_index_non_negative'
    when not (parent_run_id is null or parent_run_id <> run_id)
      then 'runs_parent_is_another_run'
    when not (priority between -1000000 and 1000000)
      then 'runs_priority_in_range'
    when not (rate_limit_key is null or length(rate_limit_key) between 1 and 255)
      then 'runs_rate_limit_key_length'
    when not (concurrency_key is null or length(concurrency_key) between 1 and 255)
      then 'runs_concurrency_key_length'
    when not (concurrency_state in ('waiting', 'admitted'))
      then 'runs_concurrency_state_is_valid'
    when not (concurrency_state is null or concurrency_key is not null)
      then 'runs_concurrency_state_needs_key'
    when not (concurrency_state is distinct from 'waiting' or status = 'started')
      then 'runs_waiting_only_while_started'
    when not (concurrency_state is distinct from 'waiting' or concurrency_ticket is not null)
      then 'runs_waiting_has_ticket'
  end;
begin
  if v_broken is null then
    return true;
  end if;
  raise exception using errcode = 'check_violation', schema = 'pgflow', table = 'runs', constraint = v_broken,
    message = format('new row for relation "runs" violates check constraint "%s"', v_broken);
end;
$$;
