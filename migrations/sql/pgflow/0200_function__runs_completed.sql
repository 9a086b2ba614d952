-- Runs whose row was just set completed (by _complete_finished_runs, or by _propagate_completed_steps
-- when their last steps completed): their run:completed events, and the tasks of parent runs that
-- wait for them (subflows).
create function pgflow._runs_completed(p_runs pgflow.runs[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_run_events('run:completed', p_runs);
  -- Subflows: a completed child run completes its parent's task.
  if exists (select 1 from unnest(p_runs) d where d.parent_run_id is not null) then
    perform pgflow._settle_parent_tasks(p_runs);
  end if;
end;
$$;
